import { describe, expect, it } from "vitest";

import { formatSize, MAX_UPLOAD_BYTES, MAX_UPLOADS, refusal, refusalFromResponse } from "./uploads";

const held = (count: number) => Array.from({ length: count }, (_, i) => `file${i}.csv`);

describe("refusal", () => {
  it("takes a plain file of fitting size", () => {
    expect(refusal({ name: "sales.csv", size: 120 }, [])).toBeNull();
  });

  it("refuses a file over the server's limit, saying the sizes", () => {
    expect(refusal({ name: "big.csv", size: MAX_UPLOAD_BYTES * 1.2 }, [])).toBe(
      "Too big: 12.0 MB, the limit is 10.0 MB.",
    );
  });

  it("refuses names the server would refuse", () => {
    expect(refusal({ name: "a/b.csv", size: 1 }, [])).toMatch(/^Bad name:/);
    expect(refusal({ name: "x".repeat(201), size: 1 }, [])).toMatch(/^Bad name: 201 characters/);
    expect(refusal({ name: "..", size: 1 }, [])).toMatch(/^Bad name:/);
  });

  it("refuses a new name once the session is full, but takes a replacement", () => {
    expect(refusal({ name: "new.csv", size: 1 }, held(MAX_UPLOADS))).toMatch(/^Too many:/);
    expect(refusal({ name: "file3.csv", size: 1 }, held(MAX_UPLOADS))).toBeNull();
  });

  it("refuses an empty file", () => {
    expect(refusal({ name: "empty.csv", size: 0 }, [])).toMatch(/^Empty:/);
  });
});

describe("refusalFromResponse", () => {
  it("passes on the server's reason under the kind of refusal", () => {
    expect(refusalFromResponse(413, { detail: "The file is larger than 10 MB." })).toBe(
      "Too big: The file is larger than 10 MB.",
    );
    expect(refusalFromResponse(409, { detail: "20 files already." })).toBe(
      "Too many: 20 files already.",
    );
    expect(refusalFromResponse(422, { detail: "The file is empty." })).toBe(
      "Empty: The file is empty.",
    );
  });

  it("explains a validation error without a readable detail as a bad name", () => {
    expect(refusalFromResponse(422, { detail: [{ loc: ["query", "filename"] }] })).toMatch(
      /^Bad name:/,
    );
  });
});

it("formats sizes for people", () => {
  expect(formatSize(512)).toBe("512 B");
  expect(formatSize(2048)).toBe("2.0 KB");
  expect(formatSize(3 * 1024 * 1024)).toBe("3.0 MB");
});
