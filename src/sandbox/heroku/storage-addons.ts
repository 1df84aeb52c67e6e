import {randomBytes} from 'node:crypto'

// The storage add-ons an app's uploads live behind: the config vars each sets.

export type UploadsProvider = 'bucketeer' | 'cloudcube' | 'aws'

// The config vars an add-on sets, pointing at a bucket on `endpoint` (the sandbox's S3, or moto).
export function bucketConfig(provider: UploadsProvider, bucket: string, endpoint: string, keys: {accessKeyId: string, secretAccessKey: string}, cube = 'cube1'): Record<string, string> {
  switch (provider) {
    case 'bucketeer': return {BUCKETEER_BUCKET_NAME: bucket, BUCKETEER_AWS_ACCESS_KEY_ID: keys.accessKeyId, BUCKETEER_AWS_SECRET_ACCESS_KEY: keys.secretAccessKey, BUCKETEER_AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: endpoint}
    case 'cloudcube': return {CLOUDCUBE_URL: `${endpoint}/${bucket}/${cube}`, CLOUDCUBE_ACCESS_KEY_ID: keys.accessKeyId, CLOUDCUBE_SECRET_ACCESS_KEY: keys.secretAccessKey, AWS_ENDPOINT_URL_S3: endpoint}
    case 'aws': return {AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey, AWS_REGION: 'us-east-1', S3_BUCKET: bucket, AWS_ENDPOINT_URL: endpoint}
  }
}

// Access keys shaped like AWS's, different for every app, so that a test can look for them in output.
export const newAccessKeys = () => ({accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64url')})
