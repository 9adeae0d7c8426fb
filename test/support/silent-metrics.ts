/** Prometheus instruments that record nothing, for unit specs: what gets recorded is the metrics e2e spec's job. */
const histogram = { startTimer: () => () => 0 };
const SILENT_INSTRUMENTS = {
  modelRequestDuration: histogram,
  toolCallDuration: histogram,
  tokens: { inc: () => undefined },
  timeDatabase: <T>(_operation: string, work: () => Promise<T>): Promise<T> => work(),
};

/**
 * The silent instruments as the service under test takes its metrics: pass the type of that parameter
 * (`ConstructorParameters<typeof X>[n]`), so a spec does not import the metrics file, whose path moves.
 */
export function silentMetrics<M extends object>(): M {
  const instruments: object = SILENT_INSTRUMENTS;
  return instruments as M;
}
