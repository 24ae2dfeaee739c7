import { describe, expect, it } from "vitest";
import { createSpeechTask } from "../../core/tasks/speech.ts";
import { speechValidationSource } from "../../core/tasks/speech-data.ts";
import { FRAME_SAMPLES, labelFrames } from "../../core/tasks/speech-frames.ts";
import { drawItemsYielding } from "./draw.ts";
import { validationTask } from "./tasks.ts";

/** A clean recording of 400 frames: 40-frame stretches of tone and silence. */
function recording() {
  const samples = Array.from({ length: 400 * FRAME_SAMPLES }, (_, i) =>
    Math.floor(i / (40 * FRAME_SAMPLES)) % 2 ? 0.2 * Math.sin(i / 3) : 0,
  );
  return { samples, labels: labelFrames(samples, 1) as (0 | 1)[] };
}

describe("an epoch's hidden items, drawn one at a time", () => {
  const noDecoder = { decodeWav16k: () => ({ samples: new Float32Array(0), sampleRate: 16_000 }) };
  const task = validationTask(createSpeechTask(noDecoder as never), speechValidationSource(recording()));

  it("are drawItems' items, in its order", async () => {
    const seed = "epoch-seed-1";
    expect(await drawItemsYielding(task, seed, 5)).toEqual(task.drawItems(seed, 5));
  });

  it("let other work run between the clips", async () => {
    // Work queued on the event loop, as a request in flight would be: it runs while the clips are made.
    let turns = 0;
    let drawing = true;
    const other = () => {
      turns++;
      if (drawing) setImmediate(other);
    };
    setImmediate(other);
    const items = await drawItemsYielding(task, "epoch-seed-2", 6);
    drawing = false;
    expect(items).toHaveLength(6);
    expect(turns).toBeGreaterThanOrEqual(5);
  });
});
