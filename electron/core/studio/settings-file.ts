// The user's settings (recent workspaces, view state) in one JSON file of the user's config folder,
// shared by the Electron app and browser mode so both remember the same things. Without a file
// (one-shot commands, tests) they live in memory for the Studio's life.
import { mkdir, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RECENT_WORKSPACES, type Settings, SettingsSchema } from '../../contract.js';
import { writeFileAtomic } from '../base/durable-fs.js';
import { CheckpointFormatError } from '../base/errors.js';
import { parseJsonAs } from '../base/parse-json.js';
import { isMissing, readRegularText } from '../base/regular-file.js';

const SETTINGS_MAX_BYTES = 1024 * 1024;

/** Where each platform keeps an application's user settings (Electron's userData follows the same rules). */
export function userSettingsFile(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  if (platform === 'win32') return path.join(env['APPDATA'] ?? path.join(home, 'AppData', 'Roaming'), 'Checkpoint Studio', 'settings.json');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Checkpoint Studio', 'settings.json');
  const config = env['XDG_CONFIG_HOME'] && path.isAbsolute(env['XDG_CONFIG_HOME']) ? env['XDG_CONFIG_HOME'] : path.join(home, '.config');
  return path.join(config, 'checkpoint-studio', 'settings.json');
}

export interface SettingsPatch {
  readonly view?: Record<string, Settings['view'][string] | null>;
  readonly forgetWorkspaces?: readonly string[];
  readonly openedWorkspace?: string;
  readonly quietSeconds?: number;
}

export class SettingsFile {
  private memory: Settings = SettingsSchema.parse({});
  /** Updates one after another, each on the file as the last one left it. */
  private queue: Promise<unknown> = Promise.resolve();

  /** @param warn told once per unreadable file, which is moved aside rather than overwritten. */
  constructor(
    private readonly file: string | null,
    private readonly warn: (message: string) => void,
  ) {}

  async read(): Promise<Settings> {
    if (this.file === null) return this.memory;
    const file = this.file;
    let text: string;
    try {
      text = await readRegularText(file, SETTINGS_MAX_BYTES);
    } catch (error) {
      if (isMissing(error)) return SettingsSchema.parse({});
      this.warn(`settings ${file} cannot be read (${error instanceof Error ? error.message : String(error)}): using defaults`);
      return SettingsSchema.parse({});
    }
    try {
      return parseJsonAs(file, text, SettingsSchema);
    } catch (error) {
      // A hand-edited or damaged file is the user's: keep it beside, start afresh.
      const aside = `${file}.unreadable-${Date.now()}`;
      await rename(file, aside).catch(() => undefined);
      const problem = error instanceof CheckpointFormatError ? error.problem : 'unexpected content';
      this.warn(`settings ${file} are not valid (${problem}): kept as ${path.basename(aside)}, using defaults`);
      return SettingsSchema.parse({});
    }
  }

  update(patch: SettingsPatch): Promise<Settings> {
    const next = this.queue.then(() => this.apply(patch));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async apply(patch: SettingsPatch): Promise<Settings> {
    const current = await this.read();
    const view = { ...current.view };
    for (const [key, value] of Object.entries(patch.view ?? {})) {
      if (value === null) delete view[key];
      else view[key] = value;
    }
    const forget = new Set(patch.forgetWorkspaces ?? []);
    let recent = current.recentWorkspaces.filter((workspace) => !forget.has(workspace));
    if (patch.openedWorkspace !== undefined) recent = [patch.openedWorkspace, ...recent.filter((w) => w !== patch.openedWorkspace)].slice(0, RECENT_WORKSPACES);
    const settings = SettingsSchema.parse({ recentWorkspaces: recent, view, quietSeconds: patch.quietSeconds ?? current.quietSeconds });
    if (this.file === null) {
      this.memory = settings;
    } else {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFileAtomic(this.file, `${JSON.stringify(settings, null, 2)}\n`);
    }
    return settings;
  }
}
