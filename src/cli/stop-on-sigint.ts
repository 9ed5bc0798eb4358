// Ctrl-C during a long run: the first SIGINT stops new work and lets work in flight finish and be
// stored; a second one quits at once.

/** A signal that fires on the first SIGINT; `dispose` removes the handler. */
export function stopOnSigint(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) {
      process.exit(130);
    }
    console.error("\nstopping: finishing the work in flight (Ctrl-C again to quit now)…");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  return { signal: controller.signal, dispose: () => process.off("SIGINT", onSigint) };
}
