// Checkpoints: save → load → identical outputs, an independent parse of the file, one-line errors.
import assert from "node:assert/strict";
import { InputError } from "../data/input_error.ts";
import { Tensor } from "../gpu/tensor.ts";
import { decodeCheckpoint, encodeCheckpoint, trainedOnSynthetic } from "../model/checkpoint.ts";
import { loadCheckpoint, loadCheckpointInto, saveCheckpoint } from "../io/checkpoint.ts";
import { modelConfig } from "../model/config.ts";
import { releaseState, SegmentationNetwork } from "../model/network.ts";
import { encodeSafetensors } from "../model/safetensors.ts";
import { gpuTest } from "./_gpu.ts";
import { syntheticInput } from "./_model.ts";

const config = modelConfig("mme+cmc+mrf+convlstm", { widths: [4, 8, 8, 8], classes: 5 });

/** Parses a safetensors file by the format's rules alone (not with our reader). */
function parseIndependently(bytes: Uint8Array) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  assert.equal(n % 8, 0, "header length is a multiple of 8");
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.ok(text.startsWith("{"), "header starts with {");
  assert.match(text, /^[^]*\} *$/, "header is padded with spaces only");
  type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };
  const header = JSON.parse(text) as Record<string, Entry>;
  const metadata = (JSON.parse(text).__metadata__ ?? {}) as Record<string, string>;
  const dataLength = bytes.length - 8 - n;
  const spans = Object.entries(header).filter(([k]) => k !== "__metadata__")
    .map(([name, e]) => ({ name, ...e })).sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);
  let end = 0;
  for (const e of spans) {
    assert.equal(e.dtype, "F32");
    assert.equal(e.data_offsets[0], end, `${e.name} starts where the previous tensor ended`);
    assert.equal(
      e.data_offsets[1] - e.data_offsets[0],
      4 * e.shape.reduce((a: number, b: number) => a * b, 1),
    );
    end = e.data_offsets[1];
  }
  assert.equal(end, dataLength, "tensors cover the data exactly");
  for (const v of Object.values(metadata)) assert.equal(typeof v, "string");
  const tensor = (name: string) => {
    const [a, b] = header[name].data_offsets;
    const view = new DataView(bytes.buffer, bytes.byteOffset + 8 + n + a, b - a);
    return Float32Array.from({ length: (b - a) / 4 }, (_, i) => view.getFloat32(4 * i, true));
  };
  return { header, metadata, tensor };
}

gpuTest(
  "model checkpoint: save → load gives identical outputs; the file is plain safetensors",
  async () => {
    const dir = await Deno.makeTempDir();
    const net = SegmentationNetwork.create(config, { seed: 8 });
    try {
      // One training-mode forward so the running statistics are no longer their initial values.
      const shape = [2, 4, 32, 32];
      const x = Tensor.from(syntheticInput(shape, 3), shape);
      net.forward(x, { steps: 2 });
      const before = net.step(x, null, { output: "logits" });
      const path = `${dir}/net.safetensors`;
      const history = [{ epoch: 1, loss: 0.5 }];
      await saveCheckpoint(path, net, { labels: "brats2015", history });
      assert.deepEqual(
        [...Deno.readDirSync(dir)].map((e) => e.name),
        ["net.safetensors"],
        "no temp file left",
      );

      const bytes = await Deno.readFile(path);
      const { header, metadata, tensor } = parseIndependently(bytes);
      assert.deepEqual(JSON.parse(metadata["webseg.config"]), config);
      assert.equal(metadata["webseg.labels"], "brats2015");
      assert.deepEqual(JSON.parse(metadata["webseg.history"]), history);
      assert.deepEqual(header["enc.flair.0.conv.weight"].shape, [4, 1, 3, 3]);
      assert.deepEqual(
        tensor("dec.3.bn.running_var"),
        await net.tensor("dec.3.bn.running_var").read(),
      );
      assert.deepEqual(tensor("lstm.h.weight"), await net.tensor("lstm.h.weight").read());

      const { network: loaded, info } = await loadCheckpoint(path);
      assert.equal(info.labels, "brats2015");
      assert.deepEqual(info.history, history);
      const after = loaded.step(x, null, { output: "logits" });
      assert.deepEqual(await after.logits!.read(), await before.logits!.read());
      // Loading into an existing network of the same config works too.
      const other = SegmentationNetwork.create(config, { seed: 99 });
      await loadCheckpointInto(path, other);
      const again = other.step(x, null, { output: "logits" });
      assert.deepEqual(await again.logits!.read(), await before.logits!.read());
      for (const r of [before, after, again]) releaseState(r.state);
      loaded.release();
      other.release();
    } finally {
      net.release();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest("model checkpoint: bad files give one clear line naming the file", async () => {
  const dir = await Deno.makeTempDir();
  const net = SegmentationNetwork.create(config, { seed: 8 });
  try {
    const good = await encodeCheckpoint(net, { labels: "brats2017" });
    const write = async (name: string, bytes: Uint8Array) => {
      await Deno.writeFile(`${dir}/${name}`, bytes);
      return `${dir}/${name}`;
    };
    const expectError = async (path: string, pattern: RegExp) => {
      const error = await loadCheckpoint(path).then(() => null, (e) => e);
      assert.ok(error instanceof InputError, `${path}: expected an InputError, got ${error}`);
      assert.ok(error.message.startsWith(path), error.message);
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes("\n"), "one line");
    };
    await expectError(`${dir}/absent.safetensors`, /no such file/);
    await expectError(
      await write("empty", new Uint8Array(0)),
      /not a safetensors file \(only 0 bytes\)/,
    );
    await expectError(
      await write(
        "text.safetensors",
        new TextEncoder().encode("this is a text file, not a checkpoint"),
      ),
      /not a safetensors file \(header length \d+\)/,
    );
    await expectError(
      await write("cut-header", good.subarray(0, 40)),
      /truncated: header needs \d+ bytes/,
    );
    await expectError(
      await write("cut-data", good.subarray(0, good.length - 100)),
      /truncated: tensor ".+" ends at/,
    );
    const garbled = good.slice();
    garbled[8] = 0x21; // "!" instead of "{"
    await expectError(await write("garbled", garbled), /header is not JSON/);
    await expectError(
      await write(
        "foreign",
        encodeSafetensors(new Map([["w", { shape: [2], data: new Float32Array(2) }]])),
      ),
      /not a checkpoint of this program \(no model config/,
    );
    const metadata = {
      "webseg.config": JSON.stringify(config),
      "webseg.labels": "brats2017",
      "webseg.version": "1",
    };
    await expectError(
      await write(
        "missing",
        encodeSafetensors(
          new Map([["head.bias", { shape: [5], data: new Float32Array(5) }]]),
          metadata,
        ),
      ),
      /missing tensor "enc.flair.0.conv.weight" for mme\+cmc\+mrf\+convlstm 4-8-8-8, 5 classes/,
    );
    await expectError(
      await write(
        "badconfig",
        encodeSafetensors(new Map(), { ...metadata, "webseg.config": '{"encoder":"x"}' }),
      ),
      /bad model config: missing field fusion/,
    );
    const unet = SegmentationNetwork.create(modelConfig("unet", { widths: [4, 8, 8, 8] }));
    const unetPath = await write(
      "unet.safetensors",
      await encodeCheckpoint(unet, { labels: "brats2017" }),
    );
    const error = await loadCheckpointInto(unetPath, net).then(() => null, (e) => e);
    assert.ok(error instanceof InputError);
    assert.match(
      error.message,
      /checkpoint is for unet 4-8-8-8, 4 classes, the network is mme\+cmc\+mrf\+convlstm/,
    );
    unet.release();
  } finally {
    net.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the shipped checkpoint says it was trained on synthetic phantoms; a marked one does too", async () => {
  const path = new URL("../models/default.safetensors", import.meta.url).pathname;
  const shipped = decodeCheckpoint(await Deno.readFile(path), { path });
  assert.equal(trainedOnSynthetic(shipped), true, "its training ids are synth phantoms");
  assert.equal(trainedOnSynthetic({ training: { data: { synthetic: true, train: ["a"] } } }), true);
  assert.equal(
    trainedOnSynthetic({ training: { data: { train: ["phantom_s1_001", "BraTS_1"] } } }),
    false,
  );
  assert.equal(trainedOnSynthetic({}), false);
});
