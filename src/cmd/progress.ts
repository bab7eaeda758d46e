/**
 * The start-up progress display of a launcher: one line per component saying what it is
 * waiting for, or that it is ready, or why it failed.
 *
 * On a terminal the block of lines is redrawn in place (ANSI cursor-up and erase), and
 * other output (a child's log line) is written above it through `interject`. Anywhere
 * else — a pipe, a log file, a test — every change is one plain line
 * (`[kv-2] ready: 127.0.0.1:20161`), so nothing depends on escape sequences. The display
 * owns only its list of components; the launcher decides the states.
 */

/** What a component is doing during start-up. */
export type ProgressState = "pending" | "waiting" | "ready" | "failed";

interface Entry {
  readonly name: string;
  state: ProgressState;
  detail: string;
}

/** The progress of one launcher's start. */
export class Progress {
  private readonly write: (text: string) => void;
  private readonly tty: boolean;
  private readonly entries: Entry[] = [];
  /** Lines of the block currently on the terminal (TTY mode). */
  private drawnLines = 0;

  constructor(options: { readonly write: (text: string) => void; readonly tty: boolean }) {
    this.write = options.write;
    this.tty = options.tty;
  }

  /** Lists the components in start order, all pending. */
  plan(names: readonly string[]): void {
    for (const name of names) this.entries.push({ name, state: "pending", detail: "" });
    if (this.tty) this.redraw("");
  }

  /** Sets a component's state and what it is waiting for (or where it is ready). */
  update(name: string, state: ProgressState, detail: string): void {
    let entry = this.entries.find((e) => e.name === name);
    if (entry === undefined) {
      entry = { name, state, detail };
      this.entries.push(entry);
    }
    entry.state = state;
    entry.detail = detail;
    if (this.tty) this.redraw("");
    else this.write(`[${name}] ${state}${detail === "" ? "" : `: ${detail}`}\n`);
  }

  /** Writes `text` (whole lines) above the block on a terminal, or as it is elsewhere. */
  interject(text: string): void {
    if (this.tty) this.redraw(text);
    else this.write(text);
  }

  /** The block as text, one line per component (what a terminal shows). */
  render(): string {
    const width = Math.max(0, ...this.entries.map((e) => e.name.length));
    return this.entries
      .map((e) => {
        const line = `  ${e.name.padEnd(width)}  ${e.state.padEnd(7)}  ${e.detail}`;
        return `${line.trimEnd()}\n`;
      })
      .join("");
  }

  private redraw(above: string): void {
    // Cursor up over the old block, erase to the end of the screen, then draw again.
    const erase = this.drawnLines === 0 ? "" : `\x1b[${this.drawnLines}A\r\x1b[J`;
    this.write(`${erase}${above}${this.render()}`);
    this.drawnLines = this.entries.length;
  }
}
