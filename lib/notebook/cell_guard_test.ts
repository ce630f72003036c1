import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { cell, startRun, stoppedBy } from "./cell_guard.ts";
import { displayContent } from "../report/display.ts";

Deno.test("cell() after a failing cell does not run: one error, then quiet 'not run' lines", async () => {
  startRun();
  let ran = 0;
  assertEquals(await cell(() => ++ran), 1);
  // The failing cell throws its own error (Run All shows it once)…
  await assertRejects(
    () => cell(() => Promise.reject(new TypeError("Cannot resolve model 'models/x'\nstack"))),
    TypeError,
    "Cannot resolve model",
  );
  assertEquals(stoppedBy(), "TypeError: Cannot resolve model 'models/x'");
  // …a later cell whose names the failed cell never defined does not run and does not throw.
  const later = await cell(() => {
    ran++;
    throw new ReferenceError("results is not defined");
  });
  assertEquals(ran, 1, "the body of a later cell does not run");
  const { data } = displayContent(later as never);
  assert(String(data["text/plain"]).startsWith("not run: an earlier cell failed (TypeError"));
  assert(String(data["text/html"]).includes("color:#777"), "grey, not an error box");
  // A new Run All starts afresh.
  startRun();
  assertEquals(stoppedBy(), null);
  assertEquals(await cell(() => "ok"), "ok");
});
