// A path typed into a field for the Studio to read on its own machine: the Studio resolves
// nothing against a working folder the person cannot see, so only an absolute path is sent.

/** Why a typed path cannot be sent as it is, or null when it can (POSIX `/…`, Windows `C:\…` or `\\server\…`). */
export function typedPathProblem(text: string): string | null {
  const typed = text.trim();
  if (typed === '') return 'type the full path of a checkpoint folder or file';
  if (typed.startsWith('~')) return `${typed}: "~" is not expanded; type the full path (starting with /)`;
  if (typed.startsWith('/') || /^[A-Za-z]:[\\/]/.test(typed) || typed.startsWith('\\\\')) return null;
  return `${typed}: not an absolute path; type the full path from the root (starting with / or a drive letter), since the Studio does not guess which folder it is relative to`;
}
