import { Type } from '@sinclair/typebox';

/**
 * Reel's rule for the names of media resources (assets, transforms, streaming policies and locators, storage
 * accounts). MK.IO's OpenAPI allows any character but `^ ' < > % & : \ ? / * +` (§2.1); that lets through
 * names no MK.IO user has and that break whatever prints or joins them: control characters (NUL, CR/LF in
 * logs and headers, tabs), `..`, and a trailing `.` (so `.` and `..`), which AMS refused too. Recorded in
 * docs/MKIO-DIFFERENCES.md.
 */
export const namePattern = "^(?!.*\\.\\.)(?!.*\\.$)[^\\^'<>%&:\\\\?/*+\\u0000-\\u001f\\u007f-\\u009f]+$";

/** A name of 1–`maxLength` characters under the rule above; applied to bodies and path parameters alike. */
export function nameRule(maxLength: number) {
  return Type.String({ minLength: 1, maxLength, pattern: namePattern });
}

/** The generic rule (MK.IO's 260 characters), for names a resource kind does not restrict further. */
export const resourceName = nameRule(260);
