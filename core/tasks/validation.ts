/** One hidden validation query with its known answer. */
export interface ValidationItem<JobInput, Label> {
  /** Stable within a source and seed, so that answers can be matched back to items. */
  id: string;
  input: JobInput;
  label: Label;
}

/**
 * Where the validator draws hidden items from. Sampling is seeded (per epoch) so every validator that shares the
 * seed asks the same questions, and an expert cannot learn the set from one epoch to the next.
 */
export interface ValidationSource<JobInput, Label> {
  readonly task: string;
  /** Number of distinct base items (before any seeded augmentation). */
  readonly size: number;
  sample(count: number, seed: number): ValidationItem<JobInput, Label>[];
  /**
   * The items `sample` returns, made one at a time (a source whose items are costly to make: a speech clip is ~12 ms
   * of synthesis and encoding). A caller that shares its thread with requests yields between them.
   */
  draws?(count: number, seed: number): Iterable<ValidationItem<JobInput, Label>>;
}
