// The errors the simulated Heroku answers with. The routes turn them into answers: the Platform and
// Data APIs' status code and {id, message} body, S3's XML <Error> with its Code.

export class ApiError extends Error {
  constructor(readonly status: number, readonly id: string, message: string) {
    super(message)
  }
}

export const notFound = (what = 'record') => new ApiError(404, 'not_found', `Couldn't find that ${what}.`)

export class S3Error extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message)
  }
}
