import { assert, assertEquals } from "../testing/assert.ts";
import {
  agreement,
  answersOf,
  type Replication,
  replicationMarkdown,
  spliceSection,
} from "./replicate.ts";

const report = (four: string, spot: string, settled: boolean, cache: boolean) => ({
  extended: {
    m: {
      sweet_spot: { dtype: spot },
      sweet_spot_settled: settled,
      checks: {
        four_bit_verdict: { value: four },
        cache_faster_at_every_length: { value: cache },
      },
    },
  },
});

Deno.test("two runs that agree, and two whose sweet spot differs, are told apart; the doc section is regenerated in place", () => {
  const a = answersOf(report("within_noise", "q8", true, true));
  const b = answersOf(report("within_noise", "q4", true, true));
  const unsettled = answersOf(report("within_noise", "q4", false, true));
  assertEquals(agreement([a, a]), {
    four_bit_faster: true,
    sweet_spot: true,
    cache_worth_it: true,
  });
  assertEquals(agreement([a, b]).sweet_spot, false);
  // "Not established" in both runs is the same answer.
  assertEquals(agreement([unsettled, unsettled]).sweet_spot, true);
  const r: Replication = {
    command: "make sweep",
    git_commit: "0123456789abcdef",
    runs: [{ seconds: 280, ended: "", answers: a }, { seconds: 290, ended: "", answers: b }],
    agree: agreement([a, b]),
  };
  const md = replicationMarkdown(r);
  assert(md.includes("| 2 | m | 290 s | within_noise | q4 | yes |"), md);
  assert(md.includes("sweet spot: **differs**"), md);
  const doc = spliceSection("# Doc\n", md);
  assertEquals(
    spliceSection(doc, "again"),
    "# Doc\n\n<!-- replicate:start -->\nagain\n<!-- replicate:end -->\n",
  );
});
