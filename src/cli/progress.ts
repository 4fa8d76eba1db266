// Progress of long work: a line redrawn in place on a terminal, a plain line every few seconds
// otherwise (logs stay readable), nothing for work that ends quickly.
export interface Progress {
  update(done: number, total: number, detail?: string): void;
  done(): void;
}

export function progress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const start = Date.now();
  let last = 0;
  let drawn = false;
  const tty = stream.isTTY === true;
  return {
    update(done, total, detail = '') {
      const now = Date.now();
      if (now - start < 1000 || now - last < (tty ? 200 : 5000)) return;
      last = now;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      const width = 24;
      const bar = '#'.repeat(Math.round((pct / 100) * width)).padEnd(width, '.');
      const rate = done / ((now - start) / 1000);
      const line = `${label} [${bar}] ${pct}% ${done}/${total} (${rate.toFixed(0)}/s)${detail === '' ? '' : ' ' + detail}`;
      if (tty) {
        stream.write(`\r${line}\x1b[K`);
        drawn = true;
      } else {
        stream.write(line + '\n');
      }
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
