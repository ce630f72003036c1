/**
 * The doctor: checks a machine before a run (software, execution providers, GPU, memory, disk,
 * CPU governor, load, data, Hub) and prints pass / warn / fail with one line of advice each.
 *
 * @module
 */
export * from "./check.ts";
export * from "./doctor.ts";
export * from "./plan.ts";
export * from "./probe.ts";
