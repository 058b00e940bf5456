// An attachment that shows a <dialog> as a modal while it is in the page: the browser traps
// focus inside it, Escape cancels it, and focus returns to where it was when it closes.
import type { Attachment } from 'svelte/attachments';

export function modal(onCancel: () => void): Attachment<HTMLDialogElement> {
  return (dialog) => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const cancel = (event: Event): void => {
      event.preventDefault();
      onCancel();
    };
    dialog.addEventListener('cancel', cancel);
    dialog.showModal();
    return () => {
      dialog.removeEventListener('cancel', cancel);
      if (dialog.open) dialog.close();
      previous?.focus();
    };
  };
}
