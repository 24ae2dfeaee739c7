/**
 * A cooperative game evaluated incrementally: the coalition is a stack of players, so exact enumeration (depth-first
 * over subsets) and permutation walks both pay one player's worth of work per step instead of rebuilding v(S).
 */
export interface CoalitionGame {
  readonly players: number;
  /** Empties the coalition. */
  reset(): void;
  /** Adds a player that is not yet in the coalition. */
  push(player: number): void;
  /** Removes the player pushed last. */
  pop(): void;
  /** v(current coalition). */
  value(): number;
}
