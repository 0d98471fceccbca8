// A real terminal for tests: a detached tmux session of a given size running a command, read with
// capture-pane and typed into with send-keys (what a person at a terminal sees and does).
import { execFileSync, spawnSync } from 'node:child_process';

export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
}

export class TmuxScreen {
  private constructor(readonly name: string) {}

  /** Starts `command` (a shell line) in a new detached session of width x height. */
  static start(name: string, command: string, opts: { width: number; height: number; env?: Record<string, string> }): TmuxScreen {
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    execFileSync('tmux', ['new-session', '-d', '-s', name, '-x', String(opts.width), '-y', String(opts.height), ...env, command]);
    // keep the pane after the command exits, so its last screen can be read
    execFileSync('tmux', ['set-option', '-t', name, 'remain-on-exit', 'on']);
    return new TmuxScreen(name);
  }

  /** The visible screen, lines joined (trailing blanks trimmed). */
  screen(): string {
    return execFileSync('tmux', ['capture-pane', '-p', '-t', this.name], { encoding: 'utf8' }).replace(/\s+$/, '');
  }

  /** The whole scrollback as well. */
  history(): string {
    return execFileSync('tmux', ['capture-pane', '-p', '-S', '-2000', '-t', this.name], { encoding: 'utf8' }).replace(/\s+$/, '');
  }

  keys(...keys: string[]): void {
    execFileSync('tmux', ['send-keys', '-t', this.name, ...keys]);
  }

  /** Whether the command has exited (the pane is dead). */
  exited(): boolean {
    return execFileSync('tmux', ['display-message', '-p', '-t', this.name, '#{pane_dead}'], { encoding: 'utf8' }).trim() === '1';
  }

  /** Waits until `test` holds for the screen's history (polling; the limit only keeps a broken run from hanging). */
  async waitFor(test: (text: string) => boolean, limitMs = 60_000): Promise<string> {
    const until = Date.now() + limitMs;
    for (;;) {
      const text = this.history();
      if (test(text)) return text;
      if (Date.now() > until) throw new Error(`the terminal never showed what was expected; it shows:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): void {
    spawnSync('tmux', ['kill-session', '-t', this.name]);
  }
}
