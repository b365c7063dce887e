/**
 * Counts of the expensive steps on the hot paths, per process: how many times flow content was
 * validated (schema + graph + file rules) and how many objects were hashed. Tests read them to
 * show that a write does each once; /metrics exports them.
 */
export const workCounters = {
  /** Validation passes over a flow value (validateFlowText and validateFlowValue both count one). */
  validations: 0,
  /** Blob ids computed from content (SHA-1 over a file's bytes). */
  blobHashes: 0,
};
