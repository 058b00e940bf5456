// happy-dom opens a <dialog> with showModal() but does nothing a browser then does: move focus
// into it, and turn Escape into the dialog's 'cancel' event (closing it unless the event is
// cancelled). These are the HTML standard's dialog focusing steps and close request, enough of
// them for component tests to check what is ours: that a dialog is opened modal, which control
// has the focus then, and what Escape does through our own cancel handler.
const FOCUSABLE = 'button, input, select, textarea, a[href], [tabindex]';

const open: HTMLDialogElement[] = [];

function canFocus(element: Element): element is HTMLElement {
  if (!(element instanceof HTMLElement) || element.getAttribute('tabindex') === '-1' || element.closest('[hidden]')) return false;
  return !(element instanceof HTMLButtonElement || element instanceof HTMLInputElement) || (!element.disabled && element.type !== 'hidden');
}

export function emulateModalDialogs(): void {
  const prototype = HTMLDialogElement.prototype;
  const close = prototype.close;
  prototype.showModal = function showModal(this: HTMLDialogElement): void {
    if (this.open) throw new DOMException('the dialog is already open', 'InvalidStateError');
    this.setAttribute('open', '');
    open.push(this);
    const first = this.querySelector<HTMLElement>('[autofocus]') ?? [...this.querySelectorAll(FOCUSABLE)].find(canFocus) ?? this;
    first.focus();
  };
  prototype.close = function closeDialog(this: HTMLDialogElement, returnValue?: string): void {
    const index = open.indexOf(this);
    if (index >= 0) open.splice(index, 1);
    close.call(this, returnValue);
  };
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || event.defaultPrevented) return;
    const top = open.filter((dialog) => dialog.isConnected && dialog.open).at(-1);
    if (top?.dispatchEvent(new Event('cancel', { cancelable: true }))) top.close();
  });
}
