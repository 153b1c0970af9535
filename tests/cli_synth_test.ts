import assert from "node:assert/strict";
import { run } from "../cli/synth.ts";
import { discoverCases } from "../io/cases.ts";
import { readNifti } from "../io/nifti.ts";
import { withTempDir } from "./_temp_dir.ts";

Deno.test("synth writes BraTS case folders that discovery accepts, with previews", () =>
  withTempDir("synth_", async (out) => {
    const code = await run([out, "--cases", "2", "--seed", "9", "--size", "40,44,24", "--preview"]);
    assert.equal(code, 0);
    const { cases, problems } = await discoverCases(out, { requireLabel: true });
    assert.deepEqual(problems, []);
    assert.deepEqual(cases.map((c) => c.id), ["phantom_s9_001", "phantom_s9_002"]);
    const flair = await readNifti(cases[0].modalities.flair);
    assert.equal(flair.header.datatypeName, "int16");
    assert.deepEqual(flair.shape, [40, 44, 24]);
    assert.equal((await readNifti(cases[0].label!)).header.datatypeName, "uint8");
    const png = await Deno.readFile(`${out}/phantom_s9_001/phantom_s9_001_preview.png`);
    assert.deepEqual([...png.subarray(1, 4)], [80, 78, 71]);
    assert.equal(
      await run([out + "/b", "--size", "40,44", "--cases", "1"]).catch((e) => e.message),
      '--size "40,44" is not X,Y,Z with each in 8..1024',
    );
    await run([`${out}/23`, "--size", "40,44,24", "--labels", "brats2023"]);
    const c23 = await discoverCases(`${out}/23`, { requireLabel: true });
    assert.match(c23.cases[0].modalities.flair, /-t2f\.nii\.gz$/);
  }));
