/**
 * The published vectors of the integrity spec (integrity-test-vectors.md), verbatim. The key is a
 * TEST KEY published on purpose: never use it for anything but tests.
 */

export const TEST_KEY_PEM = [
  "-----BEGIN PRIVATE KEY-----",
  "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCtL2i+aYA9A3zM",
  "VDt6RWCdQ6o0hXkAZmB8Ak9aZr77ScNbMtIwN14xrSqlloOjeGx1zro0zPUucfmb",
  "e+bDzw6yneC3JJImkRwcxxNFzg20ni+ydYwQ2/eOclBsP5QIEmehcj/J6/h1HcIG",
  "hbMXj1uFtCN35wiW/FG7F9WPzy9yX3b5XrXKuaNGbbukkog/1NpAxRcpq9SXxkC/",
  "rQCTHdTmZzNXvZ1JYAQw/9DMSvIff1FRLeEOba2Zt0RLrX4ZzA23unNrTh9wf4YB",
  "22LlHW4HdECJ/Pxf3ea0LkLb6T7oPuCgd8zWzEW4Kc/Z9NYfu8QUVyxQ5UlCXv2M",
  "p94t0VgfAgMBAAECggEAS98qxMzElTZbbMr0Obd+QbecsCDPZ4jyeTGr4R+FSOLC",
  "dshXhC8lkZ7bQaskpa/C2IPGWQ531a6yG1eXPC6QsljvU1zuuH23MrZWb6z7nSb2",
  "H3lW8SXlGR9ks1/RMw4ZH4ZFgulhsrFkSOY3FTnFb1iBd2yce0U0a0JgWf37O9/1",
  "Xha/2BxEN+lJk9mdVCrDst8wireR6igIA1HMW7G4FUVVXdSDSP+P9CsaeYU4Pr/o",
  "C8M2sJKqgRjiqZwHmWpVB4jHeGBp5IPOsUVYuwck2lPifKAwnVj5IPV+4SzhIOHe",
  "nV8QuYDWm/McPPOXr1nC0UYLNq39HoR5rccHsN1ddQKBgQDXRINo0s/Rm9IWxCaE",
  "xv0ldRGcCyDyRIkJR9Ka2sx9BZkzvz78QCkNLPPMK4CFSb+KOTczFNKlpmtkE5GF",
  "gfxwMxIGoO7lBpS5FdrUUJR9ptXViz7fcu6+TxC+7yEKBf2EMd+H5a/hHpwurjH9",
  "HgjPTVT8cAK/vuB/HvRzLMkx6wKBgQDN9HAJzsbuXKcfte39OUJ9KCezeJiVMVpv",
  "EAQFfbONwB0lp0UfVu4wypJxdrH4SBFmNAjB/nY4L2XJ6kXXEFVEOQb23eQJ0O8n",
  "e+JLiQnaCtiyS0mSDK8wJxsZt5AZHuCOlFuuqWIeCcfVW4AczVj4s0KcnXQkVgUs",
  "Mh/zp+9xnQKBgQCA9ny7acAy1OTx2qUw2n2B2Tapg0lDmqd2Nd8IApiLNbVoeORk",
  "/pMZX5rW8CDYuSvUxR46rfjcYGzp0YdWsl7nYNElw3gbIOwsTdmBZJzxAegNPJR4",
  "DUTWIkvn9x6WAKy2a6J8qa/KcColFRrBhyLD/pIxgXFEKjgYMBVGgsgt7QKBgCd5",
  "TzQCBszOw1VnmDqti9nTJXDXj18g+3VH+41V32EuzidWXQA5uCNv4AuRNWEh5vvQ",
  "w1DzRZNVOkwt877ZqY4O5A/SzY84FW5a5y+VD2dUJt5dYbd1aOpwxFf0f9Dgwydw",
  "tfXPDzg0pbF1/SMIFKJuMTk1UHpaZllnLgqUSGddAoGAKNg8IOMeN8bK5tPxBBGL",
  "/Gc+Vb+hs4M8fIYdiH14gvplkQEAQs00Dro4gFMDy4G5yeU3X2dADhiFZeTKc+/P",
  "QXlM0trEVfdogt20EUoFA/GHHYTKf81GkJOcXcpXG6sU47hbuqx4ovGLUkvfWcMS",
  "RwqG2zqFEVHydx/UO4JXGTQ=",
  "-----END PRIVATE KEY-----",
].join("\n");

/** Base64 of the DER PKCS#1 RSAPublicKey, as ListPublicKeys sends it. */
export const TEST_PUBLIC_KEY_BASE64 =
  "MIIBCgKCAQEArS9ovmmAPQN8zFQ7ekVgnUOqNIV5AGZgfAJPWma++0nDWzLSMDdeMa0qpZaDo3hsdc66NMz1LnH5m3vmw88Osp3gtySSJpEcHMcTRc4NtJ4vsnWMENv3jnJQbD+UCBJnoXI/yev4dR3CBoWzF49bhbQjd+cIlvxRuxfVj88vcl92+V61yrmjRm27pJKIP9TaQMUXKavUl8ZAv60Akx3U5mczV72dSWAEMP/QzEryH39RUS3hDm2tmbdES61+GcwNt7pza04fcH+GAdti5R1uB3RAifz8X93mtC5C2+k+6D7goHfM1sxFuCnP2fTWH7vEFFcsUOVJQl79jKfeLdFYHwIDAQAB";
export const TEST_FINGERPRINT = "082a8eeadbf0ab0b614c06add1fc6029";

/** The public key of AWS's documented ListPublicKeys example, with the fingerprint AWS shows for it. */
export const AWS_EXAMPLE_PUBLIC_KEY_BASE64 =
  "MIIBCgKCAQEAlSS3cl92HDycr/MTj0moOhas8habjrraXw+KzlWF0axSI2tcF+3iJ9BKQAVSKxGwxwu3m0wG3J+kUl1xboEcEPHYoIYMbgfSw7KGnuDKwkLzsQWhUJ0cIbOHASox1vv/5fNXkrHhGbDCHeVXm804c83nvHUEFYThr1PfyP/8HwrCtR3FX5OANtQCP61C1nJtSSkC8JSQUOrIP4CuwJjc+4WGDk+BGH5m9iuiAKkipEHWmUl8/P7XpfpWQuk4h8g3pXZOrNXr08lbh4d39svj7UqdhvOXoBISp9t/EXYuePGEtBdrKD9Dz+VHwyUPtBQvYr9BnkF88qBnaPNhS44rzwIDAQAB";
export const AWS_EXAMPLE_FINGERPRINT = "7f3f401420072e50a65a141430817ab3";

export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";
export const TRAIL = "tv-trail";
export const BUCKET = "tv-bucket";

export const LOG_FILE = {
  key: "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/05/111122223333_CloudTrail_us-east-1_20240305T1210Z_AbCdEfGh12345678.json.gz",
  body: '{"Records":[{"eventVersion":"1.08","eventID":"00000000-0000-4000-8000-000000000001","eventTime":"2024-03-05T12:06:07Z"}]}',
  sha256: "ac60e9861e8cfa4918dd83a4aab51377e0db00557d945e7a9977a3faf5f46303",
  eventTime: new Date("2024-03-05T12:06:07Z"),
};

/** Starting digest, no log files. */
export const DIGEST_1 = {
  startTime: new Date("2024-03-05T10:30:00Z"),
  endTime: new Date("2024-03-05T11:30:00Z"),
  key: "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/05/111122223333_CloudTrail-Digest_us-east-1_tv-trail_us-east-1_20240305T113000Z.json.gz",
  body: '{"awsAccountId":"111122223333","digestStartTime":"2024-03-05T10:30:00Z","digestEndTime":"2024-03-05T11:30:00Z","digestS3Bucket":"tv-bucket","digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/05/111122223333_CloudTrail-Digest_us-east-1_tv-trail_us-east-1_20240305T113000Z.json.gz","digestPublicKeyFingerprint":"082a8eeadbf0ab0b614c06add1fc6029","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}',
  sha256: "fc391f15e97d30223290edea112fc599731435e6b27a58f66980d48e167d3154",
  signingString: [
    "2024-03-05T11:30:00Z",
    "tv-bucket/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/05/111122223333_CloudTrail-Digest_us-east-1_tv-trail_us-east-1_20240305T113000Z.json.gz",
    "fc391f15e97d30223290edea112fc599731435e6b27a58f66980d48e167d3154",
    "null",
  ].join("\n"),
  signature:
    "7f34f33243132cef1bc21e7b6c80845de707576a21f37c612a83247e2442b1d2fcc8f05029ef3923005274f3d8d8828fec4deda995c60c466850286ff747be8cad716671e80240d5c5986be2e1513ba10d00b422cdb89ad3b9d47a923167f6c37f615a40d6829887de429ea11d6585ce61c786c3466c12700fb5ebc4722f38d26e97018a64fd388d6d17504bab5aab3839e50a09a7d39fc503f8f9c75d5d7379ad20f9fdfffe1ec71a0fcd9260886afcb0eec38e53af55c9db8331460e4944b14eb44fe142a85befd2ebd325a943b393005c86f124b515068977c59ef02e67182e7e4201577df3d80902bff93b4a984e0bf79960401443f4fd59205c465f7a94",
};

/** Chained to digest 1, listing the log file. */
export const DIGEST_2 = {
  startTime: new Date("2024-03-05T11:30:00Z"),
  endTime: new Date("2024-03-05T12:30:00Z"),
  key: "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/05/111122223333_CloudTrail-Digest_us-east-1_tv-trail_us-east-1_20240305T123000Z.json.gz",
  body: '{"awsAccountId":"111122223333","digestStartTime":"2024-03-05T11:30:00Z","digestEndTime":"2024-03-05T12:30:00Z","digestS3Bucket":"tv-bucket","digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/05/111122223333_CloudTrail-Digest_us-east-1_tv-trail_us-east-1_20240305T123000Z.json.gz","digestPublicKeyFingerprint":"082a8eeadbf0ab0b614c06add1fc6029","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"2024-03-05T12:06:07Z","oldestEventTime":"2024-03-05T12:06:07Z","previousDigestS3Bucket":"tv-bucket","previousDigestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/05/111122223333_CloudTrail-Digest_us-east-1_tv-trail_us-east-1_20240305T113000Z.json.gz","previousDigestHashValue":"fc391f15e97d30223290edea112fc599731435e6b27a58f66980d48e167d3154","previousDigestHashAlgorithm":"SHA-256","previousDigestSignature":"7f34f33243132cef1bc21e7b6c80845de707576a21f37c612a83247e2442b1d2fcc8f05029ef3923005274f3d8d8828fec4deda995c60c466850286ff747be8cad716671e80240d5c5986be2e1513ba10d00b422cdb89ad3b9d47a923167f6c37f615a40d6829887de429ea11d6585ce61c786c3466c12700fb5ebc4722f38d26e97018a64fd388d6d17504bab5aab3839e50a09a7d39fc503f8f9c75d5d7379ad20f9fdfffe1ec71a0fcd9260886afcb0eec38e53af55c9db8331460e4944b14eb44fe142a85befd2ebd325a943b393005c86f124b515068977c59ef02e67182e7e4201577df3d80902bff93b4a984e0bf79960401443f4fd59205c465f7a94","logFiles":[{"s3Bucket":"tv-bucket","s3Object":"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/05/111122223333_CloudTrail_us-east-1_20240305T1210Z_AbCdEfGh12345678.json.gz","hashValue":"ac60e9861e8cfa4918dd83a4aab51377e0db00557d945e7a9977a3faf5f46303","hashAlgorithm":"SHA-256","newestEventTime":"2024-03-05T12:06:07Z","oldestEventTime":"2024-03-05T12:06:07Z"}]}',
  sha256: "c3c9360d3c20f4cf2d19c7ec562ea92b7b2ed15be9fc8ffa9420dd87560310e8",
  signingString: [
    "2024-03-05T12:30:00Z",
    "tv-bucket/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/05/111122223333_CloudTrail-Digest_us-east-1_tv-trail_us-east-1_20240305T123000Z.json.gz",
    "c3c9360d3c20f4cf2d19c7ec562ea92b7b2ed15be9fc8ffa9420dd87560310e8",
    "7f34f33243132cef1bc21e7b6c80845de707576a21f37c612a83247e2442b1d2fcc8f05029ef3923005274f3d8d8828fec4deda995c60c466850286ff747be8cad716671e80240d5c5986be2e1513ba10d00b422cdb89ad3b9d47a923167f6c37f615a40d6829887de429ea11d6585ce61c786c3466c12700fb5ebc4722f38d26e97018a64fd388d6d17504bab5aab3839e50a09a7d39fc503f8f9c75d5d7379ad20f9fdfffe1ec71a0fcd9260886afcb0eec38e53af55c9db8331460e4944b14eb44fe142a85befd2ebd325a943b393005c86f124b515068977c59ef02e67182e7e4201577df3d80902bff93b4a984e0bf79960401443f4fd59205c465f7a94",
  ].join("\n"),
  signature:
    "783c10e7b9a0309cdca9659d434306b2a11e9c3570ca5d28aa0605254e944275aecc23ee6297dd91c1aa9a9cc1bf258a3381274cfd8d0233d51df4edd6d05ae1ae4c9361fcf1d225c9666241ca9375f0d476175648f79fb1ac9b8af0632ea980a96c9819126d91501c8caa2e2e388396f8c94c6eece8063db0444510aff5ba42c362005d5574c73aa9ef2190f7f0f0315790caaf0e005f25bb218eec7ca70f9f66a08cc0ed2fdb646c226d23082d215efbc52907cc8d9db5ff9b907a77da35054f650e855d66b5dfd66334834fcb50e7a7a9e7872fab1ba64e1d1e64c0b86c9f7b3662cb9f8578f818c5ee2c5b65c09f1014460db3a9a3367b268e68ac12364d",
};
