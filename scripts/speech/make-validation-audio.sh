#!/usr/bin/env bash
# Regenerates the speech validation fixture: data/speech/clean.wav (16 kHz mono PCM16, ~20 s) and
# data/speech/labels.json (one 0/1 label per 32 ms frame). Only the clean audio is committed; noisy versions are
# derived at load time with a seeded PRNG (adapters/runtime/speech-validation.ts), which keeps the fixture small.
# Needs espeak-ng and sox (Debian: apt-get install -y espeak-ng sox); the labeller runs with tsx.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/data/speech"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y espeak-ng sox)" >&2; exit 1; }
done

# voice|text: four voices so the detectors see different pitch and language.
utterances=(
  "en-us|The market pays every expert for the information it adds to the answer."
  "en-gb|Seven quiet rivers ran past the old mill before the morning train."
  "en-us+f3|Please call the validator again when the next epoch begins."
  "de|Heute scheint die Sonne und wir gehen zusammen in den Park."
)

# One second of silence between utterances, half a second at both ends: silent frames matter as much as speech.
sox -n -r 16000 -c 1 -b 16 "$work/gap.wav" trim 0 1.0
sox -n -r 16000 -c 1 -b 16 "$work/edge.wav" trim 0 0.5
parts=("$work/edge.wav")
i=0
for entry in "${utterances[@]}"; do
  voice="${entry%%|*}"
  text="${entry#*|}"
  espeak-ng -v "$voice" -s 165 -w "$work/raw$i.wav" "$text"
  # Resample to 16 kHz mono PCM16 and peak-normalise to -3 dBFS so the -35 dBFS label threshold means the same
  # thing for every voice.
  sox "$work/raw$i.wav" -r 16000 -c 1 -b 16 "$work/utt$i.wav" norm -3
  [ "$i" -gt 0 ] && parts+=("$work/gap.wav")
  parts+=("$work/utt$i.wav")
  i=$((i + 1))
done
parts+=("$work/edge.wav")
sox "${parts[@]}" -r 16000 -c 1 -b 16 -e signed-integer "$out/clean.wav"

cd "$root"
node --import tsx scripts/speech/label.ts "$out/clean.wav" "$out/labels.json"
ls -l "$out"
