import {createServer, type IncomingHttpHeaders, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

// A local HTTP receiver that stands in for PagerDuty, Slack, Datadog and webhooks (loopback only): it
// records every request, and answers each path as told: 202, a status (500, 429 with Retry-After), never
// (hang) until the client gives up or the receiver closes, or by dropping the connection once it has the
// request (reset: the answer is lost).

export type Answer = {status: number, retryAfter?: string} | 'hang' | 'reset'

export interface Received {
  path: string
  headers: IncomingHttpHeaders
  raw: string
  body: any
  // When it arrived (ms since the epoch), and what `mark` said then (the sandbox's writes so far).
  at: number
  mark?: unknown
  answered?: number
  // The client closed the connection before an answer (it gave up on a hanging receiver).
  cut?: boolean
}

export class Receiver {
  readonly received: Received[] = []
  url = ''
  private readonly answers = new Map<string, Answer[]>()
  private readonly hanging = new Set<ServerResponse>()

  private constructor(private readonly server: Server, private readonly mark?: () => unknown) {}

  static async start(mark?: () => unknown): Promise<Receiver> {
    const receiver: Receiver = new Receiver(createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', chunk => chunks.push(chunk))
      req.on('end', () => receiver.reply(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res))
    }), mark)
    await new Promise<void>(resolve => receiver.server.listen(0, '127.0.0.1', resolve))
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`
    return receiver
  }

  private reply(path: string, headers: IncomingHttpHeaders, raw: string, res: ServerResponse) {
    let body: unknown
    try {
      body = JSON.parse(raw)
    } catch {
      body = undefined
    }
    const record: Received = {path, headers, raw, body, at: Date.now(), mark: this.mark?.()}
    this.received.push(record)
    const queue = this.answers.get(path) ?? []
    const answer = queue.length > 1 ? queue.shift()! : queue[0] ?? {status: 202}
    if (answer === 'reset') {
      record.cut = true
      res.socket?.destroy()
      return
    }
    if (answer === 'hang') {
      this.hanging.add(res)
      res.on('close', () => {
        if (!res.writableEnded) record.cut = true
        this.hanging.delete(res)
      })
      return
    }
    record.answered = answer.status
    res.writeHead(answer.status, {'content-type': 'application/json', ...(answer.retryAfter ? {'retry-after': answer.retryAfter} : {})})
    res.end(JSON.stringify(answer.status < 300 ? {status: 'success'} : {status: 'error'}))
  }

  // How `path` answers from now on: each answer once, in order; the last one for every request after.
  set(path: string, ...answers: Answer[]) {
    this.answers.set(path, answers)
  }

  at(path: string): Received[] {
    return this.received.filter(r => r.path === path)
  }

  async close() {
    const closed = new Promise(resolve => this.server.close(resolve))
    this.server.closeAllConnections()
    await closed
  }
}
