# `pinion-src` of the seed examples: this repository's library, with the test
# resolver and DB as defaults (the seed examples call `import pinion-src { }`).
args:
import ../../.. (
  {
    resolver = ../fake-resolver;
    db = ../fixtures/universe.json;
  }
  // args
)
