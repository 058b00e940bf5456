// Every JSON file the program reads is parsed here. JSON.parse's own SyntaxError quotes a snippet
// of the text (`Unexpected token 'r', "root:*:2"... is not valid JSON`), and a schema's complaint
// names keys read from the file; the errors made here name the file, the line and column, and the
// field, and never a piece of the content (see describe-value.ts for the rule).
import { ParseErrorCode, visit } from 'jsonc-parser';
import type { z } from 'zod';
import { fieldPath, quoted } from './describe-value.js';
import { CheckpointFormatError } from './errors.js';

const WHAT: Readonly<Partial<Record<ParseErrorCode, string>>> = {
  [ParseErrorCode.InvalidSymbol]: 'a character that cannot stand there',
  [ParseErrorCode.InvalidNumberFormat]: 'a malformed number',
  [ParseErrorCode.PropertyNameExpected]: 'a property name in double quotes was expected',
  [ParseErrorCode.ValueExpected]: 'a value was expected',
  [ParseErrorCode.ColonExpected]: 'a colon was expected',
  [ParseErrorCode.CommaExpected]: 'a comma was expected',
  [ParseErrorCode.CloseBraceExpected]: 'a closing brace was expected',
  [ParseErrorCode.CloseBracketExpected]: 'a closing bracket was expected',
  [ParseErrorCode.EndOfFileExpected]: 'more follows the end of the value',
  [ParseErrorCode.InvalidCommentToken]: 'a comment (JSON has none)',
  [ParseErrorCode.UnexpectedEndOfComment]: 'a comment that does not end',
  [ParseErrorCode.UnexpectedEndOfString]: 'a string that does not end',
  [ParseErrorCode.UnexpectedEndOfNumber]: 'a number that ends too early',
  [ParseErrorCode.InvalidUnicode]: 'a malformed \\u escape',
  [ParseErrorCode.InvalidEscapeCharacter]: 'an unknown escape in a string',
  [ParseErrorCode.InvalidCharacter]: 'a control character in a string',
};

export interface JsonSyntaxError {
  /** Where the error is, in characters of the text. */
  readonly offset: number;
  /** What is wrong there, in words. */
  readonly what: string;
}

/** The first syntax error of `text` as a strict JSON parser sees it, or null when it finds none. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let found: JsonSyntaxError | null = null;
  visit(
    text,
    {
      onError: (code, offset) => {
        found ??= { offset, what: WHAT[code] ?? 'malformed JSON' };
      },
    },
    { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
  );
  return found;
}

/** `line L, column C` (both from 1) of a character offset in `text`. */
export function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/** What is wrong with `text` as JSON, where, in words: `a comma was expected at line 3, column 9`. */
export function jsonSyntaxProblem(text: string, where: (offset: number) => string = (offset) => lineAndColumn(text, offset)): string {
  const error = findJsonSyntaxError(text);
  return error === null ? 'not valid JSON' : `not valid JSON: ${error.what} at ${where(error.offset)}`;
}

/**
 * `text`, the content of `file`, parsed. `where` says where an offset of `text` is in the file,
 * for a text converted before parsing (Python's NaN, see python-json.ts).
 */
export function parseJsonText(file: string, text: string, where?: (offset: number) => string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CheckpointFormatError(file, jsonSyntaxProblem(text, where));
  }
}

/** A schema's first complaint: the field (keys from the file shown only if plain) and what is wrong. */
export function schemaProblem(error: z.ZodError, whole = 'file'): string {
  const issue = error.issues[0];
  if (issue === undefined) return `${whole}: invalid`;
  const where = fieldPath(issue.path) || whole;
  // The one issue whose message quotes the input: the keys an object did not expect.
  if (issue.code === 'unrecognized_keys') return `${where}: unexpected key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map(quoted).join(', ')}`;
  return `${where}: ${issue.message}`;
}

/** `text`, the content of `file`, as `schema` says, or an error naming the file and the first thing wrong. */
export function parseJsonAs<T>(file: string, text: string, schema: z.ZodType<T>, where?: (offset: number) => string): T {
  const result = schema.safeParse(parseJsonText(file, text, where));
  if (!result.success) throw new CheckpointFormatError(file, schemaProblem(result.error));
  return result.data;
}
