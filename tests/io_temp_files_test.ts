import assert from "node:assert/strict";
import { writeAtomic } from "../io/atomic_write.ts";
import { removeActiveTemps, sweepStaleTemps, tempNameFor } from "../io/temp_files.ts";
import { withTempDir } from "./_temp_dir.ts";

Deno.test("the sweep removes temp files of dead processes on this host only", () =>
  withTempDir("temps_", async (dir) => {
    const host = Deno.hostname();
    const names = {
      deadLegacy: "a.nii.gz.tmp-999999999-0badf00d", // no host: written here by an older version
      deadHere: `.hidden.safetensors.tmp-999999998-12345678@${host}`,
      deadTrainer: "m.safetensors.tmp-999999997-1733000000000", // an older trainer's PID-TIME
      liveHere: `b.nii.gz.tmp-${Deno.pid}-abcdef12@${host}`,
      deadElsewhere: "c.nii.gz.tmp-999999996-abcdef12@another-host", // shared storage: not ours to judge
      notOurs: "notes.tmp-draft",
      notOursEither: "data.tmp-2024-v2", // a user's file that only looks like ours
    };
    for (const name of Object.values(names)) await Deno.writeTextFile(`${dir}/${name}`, "x");
    await Deno.mkdir(`${dir}/d.nii.gz.tmp-999999995-abcdef12`); // a folder is never swept
    const removed = await sweepStaleTemps(dir);
    assert.deepEqual(removed, [names.deadHere, names.deadLegacy, names.deadTrainer].sort());
    const left = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assert.deepEqual(
      left,
      [
        names.liveHere,
        names.deadElsewhere,
        names.notOurs,
        names.notOursEither,
        "d.nii.gz.tmp-999999995-abcdef12",
      ].sort(),
    );
    assert.deepEqual(await sweepStaleTemps(`${dir}/missing`), []);
  }));

Deno.test("writeAtomic names its temp after this process and leaves none; a hard exit removes open ones", () =>
  withTempDir("temps_", async (dir) => {
    const temp = tempNameFor(`${dir}/x.bin`);
    assert.match(temp, new RegExp(`x\\.bin\\.tmp-${Deno.pid}-[0-9a-f]{8}@`));
    await Deno.writeTextFile(temp, "half written");
    removeActiveTemps();
    await writeAtomic(`${dir}/y.bin`, new Uint8Array([1, 2]));
    await writeAtomic(`${dir}/z.bin`, ReadableStream.from([new Uint8Array([3])]));
    const left = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assert.deepEqual(left, ["y.bin", "z.bin"]);
    assert.deepEqual([...await Deno.readFile(`${dir}/z.bin`)], [3]);
  }));
