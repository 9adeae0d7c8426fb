/**
 * Preloaded (`node -r`) into the processes the bench measures, when they are started with an IPC
 * channel: answers `{type: 'bench:memory'}` with `process.memoryUsage()`, so heap is sampled without
 * an HTTP request or a change to the service (after a full GC when asked and the process runs with
 * --expose-gc). The channel is unref'ed: it never keeps the process alive,
 * and a measured process whose bench died (the channel closed) shuts down as on SIGTERM.
 */
export {};

if (typeof process.send === 'function') {
  process.on('message', (message: { type?: string; id?: number; gc?: boolean } | null) => {
    if (message?.type !== 'bench:memory') return;
    // A full collection first when asked and allowed (node --expose-gc): what remains is what is retained.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (message.gc && gc) gc();
    const usage = process.memoryUsage();
    process.send?.({
      type: 'bench:memory',
      id: message.id,
      heapUsed: usage.heapUsed,
      heapTotal: usage.heapTotal,
      rss: usage.rss,
      collected: Boolean(message.gc && gc),
    });
  });
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  process.channel?.unref();
}
