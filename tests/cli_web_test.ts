import assert from "node:assert/strict";
import { CliProcess } from "./_spawn.ts";
import { withTempDir } from "./_temp_dir.ts";

Deno.test("web: builds the static site, serves it on localhost, and nothing outside it", async () => {
  await withTempDir("cli_web_", async (dir) => {
    const run = new CliProcess(["web", "--out", `${dir}/site`, "--serve", "--port", "0"]);
    try {
      await run.waitFor(/serving .* at (http:\/\/127\.0\.0\.1:\d+\/)/);
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(run.text)![1];
      assert.match(
        run.text,
        /built .*index\.html .*app\.js .*worker\.js .*models\/default\.safetensors/,
      );
      const page = await fetch(url);
      assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
      assert.match(await page.text(), /<script type="module" src="app.js">/);
      const model = await fetch(`${url}models/default.safetensors`);
      const shipped = await Deno.readFile(
        new URL("../models/default.safetensors", import.meta.url),
      );
      assert.deepEqual(new Uint8Array(await model.arrayBuffer()), shipped);
      const worker = await fetch(`${url}worker.js`);
      assert.equal(worker.headers.get("content-type"), "text/javascript; charset=utf-8");
      assert.ok((await worker.text()).length > 10_000);
      for (const path of ["nope.js", "%2e%2e/site/index.html", "models"]) {
        const response = await fetch(`${url}${path}`);
        await response.body?.cancel();
        assert.equal(response.status, 404, path);
      }
    } finally {
      run.child.kill("SIGINT");
    }
    const { code } = await run.finish();
    assert.equal(code, 0, run.text);
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    assert.deepEqual(names, ["site"], "no build folder left beside the site");
  });
});

Deno.test("web: a bad flag is one line and exit code 2", async () => {
  const run = new CliProcess(["web", "--port", "x"]);
  const { code, text } = await run.finish();
  assert.notEqual(code, 0);
  assert.equal(text.trim().split("\n").length, 1, text);
  assert.match(text, /--port "x"/);
});
