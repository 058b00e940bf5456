// A server-side copy of an object larger than one CopyObject may copy (5 GiB on S3): the copy is
// a multipart upload whose parts are ranges of the source (UploadPartCopy), a few in flight, so
// a 30 GB tensor file is copied without a byte passing through this process. The copy keeps the
// source's user metadata (our writer's mark), as CopyObject does. A copy that fails is aborted.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';

/** S3's own limits: one CopyObject copies at most 5 GiB; an upload has at most 10,000 parts. */
export const COPY_OBJECT_LIMIT = 5 * 1024 * 1024 * 1024;
const MAX_PARTS = 10_000;
const COPY_PART_BYTES = 512 * 1024 * 1024;
const PART_COPIES_IN_FLIGHT = 4;

export interface PartCopy {
  readonly bucket: string;
  /** CopySource as S3 takes it: `bucket/encoded-key[?versionId=…]`. */
  readonly source: string;
  /** The source's ETag: every part is read from those bytes, or the copy fails. */
  readonly sourceTag?: string;
  readonly to: string;
  readonly size: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly contentType?: string;
  /** The size of each part but the last (at least 5 MiB). */
  readonly partBytes?: number;
}

export async function copyInParts(client: S3Client, copy: PartCopy): Promise<void> {
  const partBytes = Math.max(copy.partBytes ?? COPY_PART_BYTES, Math.ceil(copy.size / MAX_PARTS));
  const started = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: copy.bucket,
      Key: copy.to,
      Metadata: { ...copy.metadata },
      ...(copy.contentType ? { ContentType: copy.contentType } : {}),
    }),
  );
  const uploadId = started.UploadId;
  if (uploadId === undefined) throw new Error(`${copy.to}: the store began a multipart copy without an upload id`);
  const count = Math.max(1, Math.ceil(copy.size / partBytes));
  const tags = new Array<string>(count);
  let next = 0;
  try {
    const lane = async (): Promise<void> => {
      while (next < count) {
        const at = next++;
        const start = at * partBytes;
        const end = Math.min(copy.size, start + partBytes) - 1;
        const part = await client.send(
          new UploadPartCopyCommand({
            Bucket: copy.bucket,
            Key: copy.to,
            UploadId: uploadId,
            PartNumber: at + 1,
            CopySource: copy.source,
            ...(copy.sourceTag ? { CopySourceIfMatch: copy.sourceTag } : {}),
            ...(copy.size > 0 ? { CopySourceRange: `bytes=${start}-${end}` } : {}),
          }),
        );
        tags[at] = part.CopyPartResult?.ETag ?? '';
      }
    };
    await Promise.all(Array.from({ length: Math.min(PART_COPIES_IN_FLIGHT, count) }, lane));
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: copy.bucket,
        Key: copy.to,
        UploadId: uploadId,
        MultipartUpload: { Parts: tags.map((ETag, at) => ({ ETag, PartNumber: at + 1 })) },
      }),
    );
  } catch (error) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: copy.bucket, Key: copy.to, UploadId: uploadId })).catch(() => undefined);
    throw error;
  }
}
