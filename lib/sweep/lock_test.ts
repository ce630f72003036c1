import { assert, assertThrows } from "../testing/assert.ts";
import { acquireLock } from "./lock.ts";

Deno.test("acquireLock() refuses a second holder while the first is alive", async () => {
  const path = `${await Deno.makeTempDir()}/.sweep.lock`;
  const lock = acquireLock(path);
  assertThrows(() => acquireLock(path), Error, `pid ${Deno.pid}`);
  lock.release();
  acquireLock(path).release();
});

Deno.test("acquireLock() takes over a lock left by a dead process", async () => {
  const path = `${await Deno.makeTempDir()}/.sweep.lock`;
  const child = new Deno.Command("true").spawn();
  const { success } = await child.status;
  assert(success);
  await Deno.writeTextFile(path, `${child.pid}\n`);
  const lock = acquireLock(path);
  assert(Deno.readTextFileSync(path).startsWith(String(Deno.pid)));
  lock.release();
});

Deno.test("acquireLock() after taking over a stale lock holds it against later takers", async () => {
  const path = `${await Deno.makeTempDir()}/.sweep.lock`;
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  await Deno.writeTextFile(path, `${dead.pid}\n`);
  const lock = acquireLock(path);
  // A second taker now finds a live holder (this process), not a stale lock to remove.
  assertThrows(() => acquireLock(path), Error, `pid ${Deno.pid}`);
  lock.release();
});
