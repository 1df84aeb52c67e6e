import type {IncomingMessage, ServerResponse} from 'node:http'

export interface Request {
  method: string
  path: string
  params: Record<string, string>
  query: URLSearchParams
  headers: IncomingMessage['headers']
  body: any
}

// A body written as it comes (server-sent events): `write` sends a chunk at once; `closed` fires when the
// client goes away or the server stops. The answer ends when the promise settles.
export type Streamed = (write: (chunk: string) => void, closed: AbortSignal) => Promise<void>

// What a handler returns when a plain JSON body with status 200 is not enough.
export class Reply {
  constructor(readonly fields: {status?: number, body?: unknown, headers?: Record<string, string>, text?: string, bytes?: Buffer, stream?: {type: string, body: Streamed}}) {}
}

export type Handler = (request: Request) => Promise<Reply | unknown> | Reply | unknown

export const internalError = () => new Reply({status: 500, body: {id: 'internal_server_error', message: 'Internal server error.'}})

interface Route {method: string, pattern: RegExp, keys: string[], handler: Handler}

export class Router {
  private routes: Route[] = []

  on(method: string, path: string, handler: Handler) {
    const keys: string[] = []
    const pattern = new RegExp('^' + path.replace(/:(\w+)/g, (_, key) => {
      keys.push(key)
      return '([^/]+)'
    }) + '$')
    this.routes.push({method, pattern, keys, handler})
    return this
  }

  match(method: string, path: string): {handler: Handler, params: Record<string, string>} | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue
      const found = route.pattern.exec(path)
      if (found) {
        const params = Object.fromEntries(route.keys.map((key, i) => [key, decodeURIComponent(found[i + 1])]))
        return {handler: route.handler, params}
      }
    }
  }
}

export async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

// A JSON body as an object, any other as text, an empty one as undefined.
export function parseBody(bytes: Buffer): any {
  const text = bytes.toString('utf8')
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

// `stopping`: the server is closing, which ends a stream too.
export async function send(res: ServerResponse, {fields: reply}: Reply, stopping?: AbortSignal): Promise<void> {
  const headers: Record<string, string> = {'Request-Id': crypto.randomUUID(), ...reply.headers}
  if (reply.stream !== undefined) {
    res.writeHead(reply.status ?? 200, {'Content-Type': reply.stream.type, 'Cache-Control': 'no-cache', ...headers})
    res.flushHeaders()
    const gone = new AbortController()
    res.on('close', () => gone.abort())
    try {
      await reply.stream.body(chunk => {
        if (!res.destroyed) res.write(chunk)
      }, stopping ? AbortSignal.any([gone.signal, stopping]) : gone.signal)
    } finally {
      res.end()
    }
    return
  }
  if (reply.bytes !== undefined) {
    res.writeHead(reply.status ?? 200, {'Content-Type': 'application/octet-stream', 'Content-Length': String(reply.bytes.length), ...headers})
    res.end(reply.bytes)
    return
  }
  if (reply.text !== undefined) {
    res.writeHead(reply.status ?? 200, {'Content-Type': 'text/plain', ...headers})
    res.end(reply.text)
    return
  }
  res.writeHead(reply.status ?? 200, {'Content-Type': 'application/json', ...headers})
  res.end(reply.body === undefined ? '' : JSON.stringify(reply.body))
}

