import { describe, expect, it } from 'vitest';
import { formatS3Address, isS3Address, parseS3Address } from '../../electron/core/storage/s3-address.js';
import { needsPathStyle, resolveS3Connection, s3ClientConfig } from '../../electron/core/storage/s3-client.js';

describe('s3:// addresses', () => {
  it('splits the bucket from a prefix that always ends in a slash', () => {
    expect(parseS3Address('s3://runs')).toEqual({ bucket: 'runs', prefix: '' });
    expect(parseS3Address('s3://runs/')).toEqual({ bucket: 'runs', prefix: '' });
    expect(parseS3Address('s3://my.runs-2/team//mnist/')).toEqual({ bucket: 'my.runs-2', prefix: 'team/mnist/' });
    expect(formatS3Address(parseS3Address('S3://runs/a/b'))).toBe('s3://runs/a/b/');
    expect(isS3Address('/home/me/s3://x')).toBe(false);
  });

  it('says what is wrong with a bucket name or a prefix, naming the address', () => {
    expect(() => parseS3Address('s3://Runs/x')).toThrow('s3://Runs/x: "Runs" is not a bucket name');
    expect(() => parseS3Address('s3://ab')).toThrow('is not a bucket name');
    expect(() => parseS3Address('s3://a..b/x')).toThrow('is not a bucket name');
    expect(() => parseS3Address('s3://runs/a/../b')).toThrow('s3://runs/a/../b: the prefix may not hold ".."');
    expect(() => parseS3Address('/tmp/x')).toThrow('/tmp/x: not an S3 address');
  });
});

describe('the S3 connection', () => {
  it('takes the endpoint from the flag, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL', () => {
    const env = { AWS_ENDPOINT_URL: 'https://general.example', AWS_ENDPOINT_URL_S3: 'https://s3.example' };
    expect(resolveS3Connection({ endpoint: 'http://127.0.0.1:8000/' }, env).endpoint).toBe('http://127.0.0.1:8000');
    expect(resolveS3Connection({}, env).endpoint).toBe('https://s3.example');
    expect(resolveS3Connection({}, { AWS_ENDPOINT_URL: 'https://general.example' }).endpoint).toBe('https://general.example');
    expect(resolveS3Connection({}, {}).endpoint).toBeNull();
  });

  it('addresses by path on an IP address or localhost, and when asked; by host name elsewhere', () => {
    expect(needsPathStyle('http://127.0.0.1:8000')).toBe(true);
    expect(needsPathStyle('http://[::1]:8000')).toBe(true);
    expect(needsPathStyle('http://localhost:9000')).toBe(true);
    expect(needsPathStyle('https://storage.googleapis.com')).toBe(false);
    expect(resolveS3Connection({ endpoint: 'https://minio.lab' }, {}).pathStyle).toBe(false);
    expect(resolveS3Connection({ endpoint: 'https://minio.lab', pathStyle: true }, {}).pathStyle).toBe(true);
    expect(resolveS3Connection({}, {}).pathStyle).toBe(false);
  });

  it('refuses an endpoint that is not an http(s) URL or that carries credentials, naming where it came from', () => {
    expect(() => resolveS3Connection({ endpoint: 'minio:9000' }, {})).toThrow('--s3-endpoint: "minio:9000" must be an http:// or https:// URL');
    expect(() => resolveS3Connection({}, { AWS_ENDPOINT_URL_S3: 'not a url' })).toThrow('AWS_ENDPOINT_URL_S3: "not a url" is not a URL');
    expect(() => resolveS3Connection({ endpoint: 'http://key:secret@127.0.0.1' }, {})).toThrow('may not hold a user name or password');
  });

  it('takes the profile and region from the flags, else the environment, and signs for us-east-1 when none is set', () => {
    expect(resolveS3Connection({ profile: 'lab' }, { AWS_PROFILE: 'other' }).profile).toBe('lab');
    expect(resolveS3Connection({}, { AWS_PROFILE: 'other', AWS_DEFAULT_REGION: 'eu-west-3' })).toMatchObject({ profile: 'other', region: 'eu-west-3' });
    const config = s3ClientConfig(resolveS3Connection({}, {}));
    expect(config).toMatchObject({ region: 'us-east-1', followRegionRedirects: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    expect(config).not.toHaveProperty('endpoint');
  });
});
