// Before every renderer test file: jest-dom's matchers (toBeInTheDocument, toHaveFocus…), the
// clean-up of what @testing-library/svelte mounted after each test, and modal dialogs as a browser
// runs them.
import '@testing-library/jest-dom/vitest';
import '@testing-library/svelte/vitest';
import { emulateModalDialogs } from './modal-dialogs';

emulateModalDialogs();
