import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { type RoundArm, roundOrder, runRounds } from "./rounds.ts";

Deno.test("runRounds() records round and position, drops a failing arm, stops when settled or past the budget", async () => {
  let clock = 0;
  const arm = (id: string, failAt?: number): RoundArm<string> => ({
    id,
    turn: ({ round }) => {
      clock += 10;
      if (round === failAt) return Promise.reject(new Error("boom"));
      return Promise.resolve([id, id]);
    },
  });
  const errors: string[] = [];
  const r = await runRounds([arm("a"), arm("b", 2), arm("c")], {
    minRounds: 2,
    maxRounds: 5,
    seed: 1,
    now: () => clock,
    settled: (records) => records.length >= 14,
    onArmError: (id, e) => errors.push(`${id}: ${(e as Error).message}`),
  });
  assertEquals(errors, ["b: boom"]);
  assertEquals(r.failed, ["b"]);
  assertEquals([r.rounds, r.stop], [3, "settled"]);
  for (const round of [1, 2, 3]) {
    const positions = r.records.filter((x) => x.round === round).map((x) => x.position);
    assertEquals(positions.length, round === 1 ? 6 : 4);
  }
  assertEquals(r.records.filter((x) => x.armId === "b").length, 2);

  clock = 0;
  const budget = await runRounds([arm("a")], {
    minRounds: 2,
    maxRounds: 10,
    deadlineMs: 35,
    now: () => clock,
  });
  // Rounds of 10 ms: the third (ends at 30) fits, the fourth (would end at 40) does not.
  assertEquals([budget.rounds, budget.stop], [3, "budget"]);
  const hard = await runRounds([arm("a")], { maxRounds: 3, hardDeadlineMs: -1 });
  assertEquals([hard.rounds, hard.stop], [0, "budget"]);
  await assertRejects(() => runRounds([], { maxRounds: 1 }), RangeError, "at least one arm");
});

Deno.test("roundOrder(): every position is taken by every arm over a rotation; shuffles differ by round", () => {
  const seen = new Set<string>();
  for (let round = 1; round <= 4; round++) {
    roundOrder(4, round, 0, "rotate").forEach((arm, pos) => seen.add(`${arm}@${pos}`));
  }
  assertEquals(seen.size, 16);
  const orders = [1, 2, 3, 4, 5].map((r) => roundOrder(6, r, 42, "shuffle").join());
  assert(new Set(orders).size > 1, orders.join(" | "));
});
