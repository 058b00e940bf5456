// zod compiles fast validators with `new Function` when it may; the page's CSP forbids eval, and
// each refused attempt would be a CSP violation in the console. Interpreted validation is enough
// for messages of this size.
import { z } from 'zod';

z.config({ jitless: true });
