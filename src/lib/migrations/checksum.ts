import {createHash} from 'node:crypto'

// Prisma records the lowercase hex sha256 of a migration.sql's exact text, with no trimming and
// without the migration's name.
export const checksumOf = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

// Prisma accepts a file whose line endings were converted (a checkout on Windows), so do we.
export function matchesChecksum(text: string, recorded: string): boolean {
  const variants = [text, text.replace(/\r\n/g, '\n'), text.replace(/\r?\n/g, '\r\n')]
  return variants.some(variant => checksumOf(variant) === recorded.toLowerCase())
}
