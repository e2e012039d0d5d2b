// A progress bar on a terminal's stderr, redrawn in place: `backtest [#########.........]  52% 374/720`.
// The caller shows it only when stderr is a terminal; it never writes a newline until done.

const WIDTH = 30;

export interface ProgressBar {
  update(done: number, total: number): void;
  /** clears the line, so what follows starts on a clean one */
  done(): void;
}

export function progressBar(stream: NodeJS.WritableStream, label: string): ProgressBar {
  let shown = -1;
  return {
    update(done, total) {
      const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
      // redrawn once per percent: a long replay doesn't flood a slow terminal
      if (percent === shown) return;
      shown = percent;
      const filled = Math.round((percent / 100) * WIDTH);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(percent).padStart(3)}% ${done}/${total}`);
    },
    done() {
      if (shown >= 0) stream.write('\r\x1b[2K');
    },
  };
}
