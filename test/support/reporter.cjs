// mocha's spec reporter, and a closing line in the plain form CI reads. It runs in mocha's main process,
// so with --parallel the line counts the tests of every file.
const {reporters} = require('mocha')

class SpecWithTally extends reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    runner.once('end', () => {
      const {passes, failures, pending} = runner.stats
      process.stdout.write(`${passes} passed, ${failures} failed, ${pending} skipped\n`)
    })
  }
}

module.exports = SpecWithTally
