import type { CoalitionGame } from "../game.ts";

/** A game given by a function of the member list; for tests whose Shapley values are known analytically. */
export function functionGame(players: number, v: (members: readonly number[]) => number): CoalitionGame {
  const members: number[] = [];
  return {
    players,
    reset: () => {
      members.length = 0;
    },
    push: (p) => {
      members.push(p);
    },
    pop: () => {
      members.pop();
    },
    value: () => v(members),
  };
}

/** v(S) = sum of w_i over S: phi_i = w_i exactly, at any size. */
export function additiveGame(weights: readonly number[]): CoalitionGame {
  return functionGame(weights.length, (members) => members.reduce((s, p) => s + (weights[p] ?? 0), 0));
}

/**
 * Glove-like unanimity sum: v(S) = sum over blocks B of c_B * [B subset of S]. Shapley splits each c_B equally among
 * B's members, so phi is known in closed form at any size.
 */
export function unanimityGame(players: number, blocks: readonly { members: readonly number[]; worth: number }[]) {
  const game = functionGame(players, (members) => {
    const set = new Set(members);
    let v = 0;
    for (const block of blocks) if (block.members.every((m) => set.has(m))) v += block.worth;
    return v;
  });
  const phi = new Float64Array(players);
  for (const block of blocks) {
    for (const m of block.members) phi[m] = (phi[m] ?? 0) + block.worth / block.members.length;
  }
  return { game, phi };
}
