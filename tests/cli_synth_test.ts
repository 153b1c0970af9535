import assert from "node:assert/strict";
import { run } from "../cli/synth.ts";
import { discoverCases } from "../io/cases.ts";
import { readNifti, readNiftiHeader } from "../io/nifti.ts";
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

Deno.test("synth's classic default is --variety classic; rich flags reach the files", () =>
  withTempDir("synth_variety_", async (out) => {
    const args = ["--cases", "1", "--seed", "3", "--size", "32,32,20"];
    assert.equal(await run([`${out}/default`, ...args]), 0);
    assert.equal(await run([`${out}/classic`, ...args, "--variety", "classic"]), 0);
    // Gzip's header holds the time (bytes 4-7); the rest must match.
    const bytes = async (dir: string) =>
      (await Deno.readFile(`${out}/${dir}/phantom_s3_001/phantom_s3_001_t1ce.nii.gz`)).fill(
        0,
        4,
        8,
      );
    assert.deepEqual(await bytes("classic"), await bytes("default"));
    const rich = [...args, "--variety", "rich", "--voxel-size", "1.5", "--slice-thickness", "3"];
    assert.equal(await run([`${out}/rich`, ...rich, "--tumours", "2", "--noise", "0.5-1"]), 0);
    const header = await readNiftiHeader(`${out}/rich/phantom_s3_001/phantom_s3_001_flair.nii.gz`);
    assert.deepEqual(header.pixdim.slice(1, 4), [1.5, 1.5, 3]);
    assert.notDeepEqual(await bytes("rich"), await bytes("default"));
    const message = (extra: string[]) =>
      run([`${out}/bad`, ...args, ...extra]).then(() => "", (e) => e.message);
    assert.equal(await message(["--noise", "9"]), '--noise "9" is outside 0-8 (or LO > HI)');
    assert.equal(await message(["--variety", "fancy"]), '--variety "fancy" is not classic or rich');
    assert.match(await message(["--tumours", "1.5"]), /whole number/);
    assert.match(await message(["--surface-share", "0.1-0.2"]), /one number/);
    assert.match(await message(["--bias", "strong"]), /not a number N or a range LO-HI/);
  }));
