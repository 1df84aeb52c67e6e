import {createHash} from 'node:crypto'

// Prisma records the lowercase hex sha256 of a migration.sql's exact text, with no trimming and
// without the migration's name (prisma-engines, `checksum.rs`).
const digestOf = (text: string) => createHash('sha256').update(text, 'utf8').digest()

export const checksumOf = (text: string) => digestOf(text).toString('hex')

// An early schema engine wrote each byte without zero-padding; Prisma still accepts those rows.
const unpaddedHexOf = (digest: Buffer) => [...digest].map(byte => byte.toString(16)).join('')

// Prisma's comparison: the text as it is, with CRLF turned into LF, or with every LF turned into CRLF
// (a checkout on Windows), against a padded checksum or, when the recorded one is shorter, an unpadded one.
export function matchesChecksum(text: string, recorded: string): boolean {
  const variants = [text, text.replace(/\r\n/g, '\n'), text.replace(/\n/g, '\r\n')]
  const format = recorded.length > 0 && recorded.length !== 64 ? unpaddedHexOf : (digest: Buffer) => digest.toString('hex')
  return variants.some(variant => format(digestOf(variant)) === recorded)
}
