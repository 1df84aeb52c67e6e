import assert from 'node:assert/strict'
import {formatDuration, parseDuration} from '../../src/lib/duration.js'
import {PollTimeout, StopPolling, poll} from '../../src/lib/poll.js'
import {redact, registerSecrets} from '../../src/lib/secrets.js'

describe('durations', () => {
  it('reads the forms people type', () => {
    assert.equal(parseDuration('90s'), 90_000)
    assert.equal(parseDuration('30m'), 1_800_000)
    assert.equal(parseDuration('6h'), 21_600_000)
    assert.equal(parseDuration('2d'), 172_800_000)
    assert.equal(parseDuration('1h30m'), 5_400_000)
  })

  it('refuses what it cannot read', () => {
    for (const text of ['', 'soon', '5', '5 weeks', '3h and then']) assert.throws(() => parseDuration(text), /Invalid duration/)
  })

  it('formats ages briefly', () => {
    assert.equal(formatDuration(45_000), '45s')
    assert.equal(formatDuration(12 * 60_000), '12m')
    assert.equal(formatDuration(3 * 3600_000 + 5 * 60_000), '3h 5m')
    assert.equal(formatDuration(30 * 3600_000), '1d 6h')
  })
})

describe('poll', () => {
  it('backs off between attempts until the check answers', async () => {
    const times: number[] = []
    const value = await poll(async () => {
      times.push(Date.now())
      return times.length === 4 ? 'done' : undefined
    }, {intervalMs: 20, timeoutMs: 5000, description: 'a test'})
    assert.equal(value, 'done')
    const gaps = times.slice(1).map((t, i) => t - times[i])
    assert.ok(gaps[2] > gaps[0], `gaps grow: ${gaps.join(', ')}`)
  })

  it('tolerates a few passing failures, then gives up', async () => {
    let calls = 0
    const flaky = await poll(async () => (++calls < 3 ? Promise.reject(new Error('flaky')) : 'ok'), {intervalMs: 1, timeoutMs: 5000, description: 'x'})
    assert.equal(flaky, 'ok')
    await assert.rejects(poll(async () => Promise.reject(new Error('down')), {intervalMs: 1, timeoutMs: 5000, failureBudget: 2, description: 'x'}), /down/)
  })

  it('stops at once on a final outcome, and times out', async () => {
    let calls = 0
    await assert.rejects(poll(async () => {
      calls++
      throw new StopPolling('crashed')
    }, {intervalMs: 1, timeoutMs: 5000, description: 'x'}), /crashed/)
    assert.equal(calls, 1)
    await assert.rejects(poll(async () => undefined, {intervalMs: 10, timeoutMs: 50, description: 'nothing'}), PollTimeout)
  })

  it('asks again at once when woken (a release phase\'s output ended), once', async () => {
    let calls = 0
    let ended!: () => void
    const wake = new Promise<void>(resolve => {
      ended = resolve
    })
    // A wait of a minute, cut short: without the wake, mocha's timeout ends the test.
    const value = await poll(async () => {
      if (++calls === 1) setImmediate(ended)
      return calls === 2 ? 'live' : undefined
    }, {intervalMs: 60_000, timeoutMs: 120_000, description: 'x', wake})
    assert.equal(value, 'live')
    assert.equal(calls, 2)
    // Ctrl-C still ends a poll that can be woken.
    const stop = new AbortController()
    let attempts = 0
    const waiting = poll(async () => {
      if (++attempts === 2) setTimeout(() => stop.abort(), 20)
      return undefined
    }, {intervalMs: 1, maxIntervalMs: 1, timeoutMs: 60_000, description: 'x', wake: Promise.resolve(), signal: stop.signal})
    await assert.rejects(waiting, /cancelled/)
    assert.ok(attempts >= 2)
  })
})

describe('redact', () => {
  it('hides credentials in URLs, registered secrets and the API key', () => {
    process.env.HEROKU_API_KEY = 'the-api-key-123'
    registerSecrets(['super-secret-value'])
    const text = redact('postgres://user:hunter22@host:5432/db and super-secret-value and the-api-key-123')
    assert.equal(text, 'postgres://user:[REDACTED]@host:5432/db and [REDACTED] and [REDACTED]')
  })
})
