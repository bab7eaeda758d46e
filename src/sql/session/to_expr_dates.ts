/**
 * Translation of the date and time syntax that is not a plain function call into the
 * evaluator's built-ins (src/expr/date_arith.ts, date_parts.ts, date_format.ts):
 * `DATE_ADD(d, INTERVAL n unit)`, DATE_SUB, ADDDATE / SUBDATE (also with a number of
 * days), `d + INTERVAL n unit`, `INTERVAL n unit + d`, `d - INTERVAL n unit`,
 * EXTRACT(unit FROM d), TIMESTAMPADD / TIMESTAMPDIFF(unit, …), GET_FORMAT(DATE, …) and
 * FROM_UNIXTIME(n, format).
 * Units and GET_FORMAT's type become string constants; WEEK(d) and EXTRACT(WEEK FROM d)
 * get the session's `default_week_format` as their mode, as MySQL's parser adds it.
 * Returns undefined for anything else, which to_expr.ts translates as usual.
 */
import { type Expr, stringLiteral } from "../../expr/mod.ts";
import type { Expr as AstExpr } from "../parser/ast.ts";
import { ER, mysqlError } from "../mysql_errors.ts";

type Translate = (ast: AstExpr) => Expr;
type Call = (name: string, args: readonly Expr[]) => Expr;
/** The session's `default_week_format`, as a constant. */
type WeekFormat = () => Expr;

const intervalFunctions: ReadonlyMap<string, "date_add_interval" | "date_sub_interval"> =
  new Map([
    ["date_add", "date_add_interval"],
    ["adddate", "date_add_interval"],
    ["date_sub", "date_sub_interval"],
    ["subdate", "date_sub_interval"],
  ]);

const formatTypes: ReadonlySet<string> = new Set(["date", "time", "datetime", "timestamp"]);

/** `ast` as built-in calls when it is date syntax; undefined otherwise. */
export function translateDateSyntax(ast: AstExpr, t: Translate, call: Call,
  weekFormat: WeekFormat): Expr | undefined {
  switch (ast.kind) {
    case "binary": {
      if (ast.op !== "+" && ast.op !== "-") return undefined;
      if (ast.right.kind === "interval") {
        const name = ast.op === "+" ? "date_add_interval" : "date_sub_interval";
        return call(name, [t(ast.left), t(ast.right.value), stringLiteral(ast.right.unit)]);
      }
      if (ast.left.kind === "interval" && ast.op === "+") {
        return call("date_add_interval",
          [t(ast.right), t(ast.left.value), stringLiteral(ast.left.unit)]);
      }
      return undefined;
    }
    case "extract":
      // EXTRACT(WEEK …) numbers weeks as WEEK() does by default.
      return call("extract", [stringLiteral(ast.unit), t(ast.expr),
        ...(ast.unit === "WEEK" ? [weekFormat()] : [])]);
    case "timeUnit":
      return stringLiteral(ast.unit);
    case "func": {
      const name = ast.name.toLowerCase();
      const intervalName = intervalFunctions.get(name);
      if (intervalName !== undefined) {
        const [date, second] = ast.args;
        if (ast.args.length !== 2 || date === undefined || second === undefined) {
          throw mysqlError(ER.WRONG_PARAMCOUNT_TO_NATIVE_FCT, [ast.name]);
        }
        if (second.kind === "interval") {
          return call(intervalName, [t(date), t(second.value), stringLiteral(second.unit)]);
        }
        // ADDDATE(d, n) and SUBDATE(d, n): n days. DATE_ADD needs an INTERVAL.
        if (name === "date_add" || name === "date_sub") {
          throw mysqlError(ER.WRONG_PARAMCOUNT_TO_NATIVE_FCT, [ast.name]);
        }
        return call(intervalName, [t(date), t(second), stringLiteral("DAY")]);
      }
      // FROM_UNIXTIME(n, format) is DATE_FORMAT(FROM_UNIXTIME(n), format).
      if (name === "from_unixtime" && ast.args.length === 2) {
        return call("date_format", [call("from_unixtime", [t(ast.args[0]!)]),
          t(ast.args[1]!)]);
      }
      // WEEK(d) is WEEK(d, @@default_week_format), as MySQL's parser makes it.
      if (name === "week" && ast.args.length === 1) return call("week", [t(ast.args[0]!),
        weekFormat()]);
      if (name === "get_format" && ast.args.length === 2) {
        const kind = ast.args[0]!;
        if (kind.kind === "column" && kind.table === null && kind.db === null &&
          formatTypes.has(kind.column.toLowerCase())) {
          return call("get_format", [stringLiteral(kind.column.toUpperCase()),
            t(ast.args[1]!)]);
        }
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
