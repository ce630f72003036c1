// Stands in for an npm package the GPU bundle leaves out (docs/gpu.md): importing it works, so
// modules that import it load, but any call into it throws an error naming the package. The
// check's code paths never call it (Polars writes and reads tables, sharp decodes images).
"use strict";
const NAME = "@@NAME@@";
function stub(path) {
  return new Proxy(function () {}, {
    get(_target, key) {
      if (typeof key === "symbol" || key === "then" || key === "__esModule") return undefined;
      return stub(`${path}.${String(key)}`);
    },
    apply() {
      throw new Error(`${NAME} is not in the GPU bundle (docs/gpu.md): ${path}() cannot run here`);
    },
    construct() {
      throw new Error(
        `${NAME} is not in the GPU bundle (docs/gpu.md): new ${path}() cannot run here`,
      );
    },
  });
}
module.exports = stub(NAME);
