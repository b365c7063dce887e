/** DB-GPT's `Result` envelope and `PaginationResult`, built in DB-GPT's key order. */

/** DB-GPT's `Result`: `{success, err_code, err_msg, data}`, keys in exactly this order. */
export interface ResultBody<T> {
  success: boolean;
  err_code: string | null;
  err_msg: string | null;
  data: T | null;
}

/** The envelope builders, named as DB-GPT's `Result.succ` and `Result.failed`. */
export const envelope = {
  /** A success: `success: true`, no error, `data`. */
  succ<T>(data: T): ResultBody<T> {
    return { success: true, err_code: null, err_msg: null, data };
  },
  /** A failure: `success: false`, DB-GPT's `err_code` and a readable `err_msg`, `data: null`. */
  failed(errCode: string, errMsg: string): ResultBody<never> {
    return { success: false, err_code: errCode, err_msg: errMsg, data: null };
  },
};
