import type {RecordedRequest} from './server.js'

// Rounds of requests, as a client that waits for answers sees them: a request is in round 1 when no
// request had been answered when it arrived, else in the round after the latest round answered by then.
// So the number of rounds is the longest chain of requests each sent after the one before was answered:
// with a simulated round trip (`latencyMs`), the sequential waits on the network. Requests sent together
// share a round even when one of them starts a little late.
export function rounds(requests: RecordedRequest[]): RecordedRequest[][] {
  const sorted = [...requests].sort((a, b) => a.at - b.at)
  const depth = new Map<RecordedRequest, number>()
  for (const request of sorted) {
    const before = sorted.filter(other => other.done !== undefined && other.done <= request.at).map(other => depth.get(other)!)
    depth.set(request, 1 + Math.max(0, ...before))
  }
  const grouped: RecordedRequest[][] = []
  for (const request of sorted) (grouped[depth.get(request)! - 1] ??= []).push(request)
  return grouped
}

// The rounds of requests sent before the first one that matches `write` (the rollback POST).
export function roundsBefore(requests: RecordedRequest[], write: (request: RecordedRequest) => boolean): RecordedRequest[][] {
  const first = requests.find(write)
  return rounds(first ? requests.filter(r => r.at < first.at) : requests)
}
