/** How long `run` took, and whether it resolved (else the error it rejected with). */
export async function timed(
  run: () => Promise<unknown>,
): Promise<{ ms: number; ok: boolean; error?: unknown }> {
  const start = performance.now()
  try {
    await run()
    return { ms: performance.now() - start, ok: true }
  } catch (error) {
    return { ms: performance.now() - start, ok: false, error }
  }
}
