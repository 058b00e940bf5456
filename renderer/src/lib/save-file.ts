// Text the user takes away: saved as a file through the browser's download (Electron asks where
// to save it), or put on the clipboard.

export function saveText(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  // The download has read the blob once the click's task is over.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** Whether the clipboard took it (a page without the permission, or not focused, refuses). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
