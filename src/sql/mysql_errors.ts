/**
 * The one catalogue of MySQL errors Tessera reports to clients: error number, SQLSTATE and
 * message template, each copied verbatim from MySQL 8.0 (`share/messages_to_clients.txt`),
 * so that clients, ORMs and tools that match on numbers, states or text behave as with
 * MySQL. Templates use MySQL's printf placeholders (`%s`, `%d`, `%lu`, `%ld`, `%.*s`); each
 * takes one argument, in order.
 *
 * Every component that reports a SQL error builds it here with `mysqlError`; no other file
 * spells an error number or message. A `MySqlError` is an expected outcome, not a bug: it is
 * returned (or thrown across an async boundary) and the wire layer turns it into an ERR
 * packet.
 */

/** One catalogue entry. */
export interface MySqlErrorSpec {
  /** MySQL's symbolic name, e.g. `ER_PARSE_ERROR`. */
  readonly name: string;
  /** MySQL's error number, e.g. 1064. */
  readonly errno: number;
  /** Five-character SQLSTATE, e.g. `42000`. */
  readonly sqlState: string;
  /** Message template with printf placeholders, verbatim from MySQL. */
  readonly template: string;
}

function spec(name: string, errno: number, sqlState: string, template: string): MySqlErrorSpec {
  return { name, errno, sqlState, template };
}

/** The text MySQL puts before `near '...' at line N` in a syntax error. */
const syntaxErrorText =
  "You have an error in your SQL syntax; check the manual that corresponds to your MySQL " +
  "server version for the right syntax to use";

/** The catalogue, keyed by MySQL's symbolic names without the `ER_` prefix. */
export const ER = {
  DB_CREATE_EXISTS: spec(
    "ER_DB_CREATE_EXISTS", 1007, "HY000", "Can't create database '%s'; database exists"),
  DB_DROP_EXISTS: spec(
    "ER_DB_DROP_EXISTS", 1008, "HY000", "Can't drop database '%s'; database doesn't exist"),
  CON_COUNT_ERROR: spec("ER_CON_COUNT_ERROR", 1040, "08004", "Too many connections"),
  HANDSHAKE_ERROR: spec("ER_HANDSHAKE_ERROR", 1043, "08S01", "Bad handshake"),
  DBACCESS_DENIED_ERROR: spec(
    "ER_DBACCESS_DENIED_ERROR", 1044, "42000",
    "Access denied for user '%s'@'%s' to database '%s'"),
  ACCESS_DENIED_ERROR: spec(
    "ER_ACCESS_DENIED_ERROR", 1045, "28000",
    "Access denied for user '%s'@'%s' (using password: %s)"),
  NO_DB_ERROR: spec("ER_NO_DB_ERROR", 1046, "3D000", "No database selected"),
  UNKNOWN_COM_ERROR: spec("ER_UNKNOWN_COM_ERROR", 1047, "08S01", "Unknown command"),
  BAD_NULL_ERROR: spec("ER_BAD_NULL_ERROR", 1048, "23000", "Column '%s' cannot be null"),
  BAD_DB_ERROR: spec("ER_BAD_DB_ERROR", 1049, "42000", "Unknown database '%s'"),
  TABLE_EXISTS_ERROR: spec(
    "ER_TABLE_EXISTS_ERROR", 1050, "42S01", "Table '%s' already exists"),
  BAD_TABLE_ERROR: spec("ER_BAD_TABLE_ERROR", 1051, "42S02", "Unknown table '%s'"),
  NON_UNIQ_ERROR: spec("ER_NON_UNIQ_ERROR", 1052, "23000", "Column '%s' in %s is ambiguous"),
  BAD_FIELD_ERROR: spec("ER_BAD_FIELD_ERROR", 1054, "42S22", "Unknown column '%s' in '%s'"),
  DUP_ENTRY: spec("ER_DUP_ENTRY", 1062, "23000", "Duplicate entry '%s' for key '%s'"),
  PARSE_ERROR: spec(
    "ER_PARSE_ERROR", 1064, "42000", `${syntaxErrorText} near '%s' at line %d`),
  EMPTY_QUERY: spec("ER_EMPTY_QUERY", 1065, "42000", "Query was empty"),
  NO_SUCH_THREAD: spec("ER_NO_SUCH_THREAD", 1094, "HY000", "Unknown thread id: %lu"),
  NO_TABLES_USED: spec("ER_NO_TABLES_USED", 1096, "HY000", "No tables used"),
  UNKNOWN_ERROR: spec("ER_UNKNOWN_ERROR", 1105, "HY000", "Unknown error"),
  UNKNOWN_TABLE: spec("ER_UNKNOWN_TABLE", 1109, "42S02", "Unknown table '%s' in %s"),
  WRONG_VALUE_COUNT_ON_ROW: spec(
    "ER_WRONG_VALUE_COUNT_ON_ROW", 1136, "21S01",
    "Column count doesn't match value count at row %ld"),
  TABLEACCESS_DENIED_ERROR: spec(
    "ER_TABLEACCESS_DENIED_ERROR", 1142, "42000",
    "%s command denied to user '%s'@'%s' for table '%s'"),
  NO_SUCH_TABLE: spec("ER_NO_SUCH_TABLE", 1146, "42S02", "Table '%s.%s' doesn't exist"),
  UNKNOWN_CHARACTER_SET: spec(
    "ER_UNKNOWN_CHARACTER_SET", 1115, "42000", "Unknown character set: '%s'"),
  NOT_ALLOWED_COMMAND: spec(
    "ER_NOT_ALLOWED_COMMAND", 1148, "42000",
    "The used command is not allowed with this MySQL version"),
  SYNTAX_ERROR: spec("ER_SYNTAX_ERROR", 1149, "42000", syntaxErrorText),
  NET_PACKET_TOO_LARGE: spec(
    "ER_NET_PACKET_TOO_LARGE", 1153, "08S01",
    "Got a packet bigger than 'max_allowed_packet' bytes"),
  NET_READ_ERROR: spec(
    "ER_NET_READ_ERROR", 1158, "08S01", "Got an error reading communication packets"),
  NET_PACKETS_OUT_OF_ORDER: spec(
    "ER_NET_PACKETS_OUT_OF_ORDER", 1156, "08S01", "Got packets out of order"),
  CANT_DO_THIS_DURING_AN_TRANSACTION: spec(
    "ER_CANT_DO_THIS_DURING_AN_TRANSACTION", 1179, "25000",
    "You are not allowed to execute this command in a transaction"),
  UNKNOWN_SYSTEM_VARIABLE: spec(
    "ER_UNKNOWN_SYSTEM_VARIABLE", 1193, "HY000", "Unknown system variable '%s'"),
  LOCK_WAIT_TIMEOUT: spec(
    "ER_LOCK_WAIT_TIMEOUT", 1205, "HY000",
    "Lock wait timeout exceeded; try restarting transaction"),
  WRONG_ARGUMENTS: spec("ER_WRONG_ARGUMENTS", 1210, "HY000", "Incorrect arguments to %s"),
  LOCK_DEADLOCK: spec(
    "ER_LOCK_DEADLOCK", 1213, "40001",
    "Deadlock found when trying to get lock; try restarting transaction"),
  SPECIFIC_ACCESS_DENIED_ERROR: spec(
    "ER_SPECIFIC_ACCESS_DENIED_ERROR", 1227, "42000",
    "Access denied; you need (at least one of) the %s privilege(s) for this operation"),
  LOCAL_VARIABLE: spec(
    "ER_LOCAL_VARIABLE", 1228, "HY000",
    "Variable '%s' is a SESSION variable and can't be used with SET GLOBAL"),
  GLOBAL_VARIABLE: spec(
    "ER_GLOBAL_VARIABLE", 1229, "HY000",
    "Variable '%s' is a GLOBAL variable and should be set with SET GLOBAL"),
  WRONG_VALUE_FOR_VAR: spec(
    "ER_WRONG_VALUE_FOR_VAR", 1231, "42000", "Variable '%s' can't be set to the value of '%s'"),
  WRONG_TYPE_FOR_VAR: spec(
    "ER_WRONG_TYPE_FOR_VAR", 1232, "42000", "Incorrect argument type to variable '%s'"),
  NOT_SUPPORTED_YET: spec(
    "ER_NOT_SUPPORTED_YET", 1235, "42000", "This version of MySQL doesn't yet support '%s'"),
  INCORRECT_GLOBAL_LOCAL_VAR: spec(
    "ER_INCORRECT_GLOBAL_LOCAL_VAR", 1238, "HY000", "Variable '%s' is a %s variable"),
  UNKNOWN_STMT_HANDLER: spec(
    "ER_UNKNOWN_STMT_HANDLER", 1243, "HY000",
    "Unknown prepared statement handler (%.*s) given to %s"),
  WARN_DATA_OUT_OF_RANGE: spec(
    "ER_WARN_DATA_OUT_OF_RANGE", 1264, "22003", "Out of range value for column '%s' at row %ld"),
  TRUNCATED_WRONG_VALUE: spec(
    "ER_TRUNCATED_WRONG_VALUE", 1292, "22007", "Truncated incorrect %s value: '%s'"),
  UNKNOWN_COLLATION: spec("ER_UNKNOWN_COLLATION", 1273, "HY000", "Unknown collation: '%s'"),
  UNSUPPORTED_PS: spec(
    "ER_UNSUPPORTED_PS", 1295, "HY000",
    "This command is not supported in the prepared statement protocol yet"),
  SP_DOES_NOT_EXIST: spec("ER_SP_DOES_NOT_EXIST", 1305, "42000", "%s %s does not exist"),
  QUERY_INTERRUPTED: spec(
    "ER_QUERY_INTERRUPTED", 1317, "70100", "Query execution was interrupted"),
  DIVISION_BY_ZERO: spec("ER_DIVISION_BY_ZERO", 1365, "22012", "Division by 0"),
  TRUNCATED_WRONG_VALUE_FOR_FIELD: spec(
    "ER_TRUNCATED_WRONG_VALUE_FOR_FIELD", 1366, "HY000",
    "Incorrect %s value: '%s' for column '%s' at row %ld"),
  DATA_TOO_LONG: spec(
    "ER_DATA_TOO_LONG", 1406, "22001", "Data too long for column '%s' at row %ld"),
  STMT_HAS_NO_OPEN_CURSOR: spec(
    "ER_STMT_HAS_NO_OPEN_CURSOR", 1421, "HY000", "The statement (%lu) has no open cursor."),
  MAX_PREPARED_STMT_COUNT_REACHED: spec(
    "ER_MAX_PREPARED_STMT_COUNT_REACHED", 1461, "42000",
    "Can't create more than max_prepared_stmt_count statements (current value: %lu)"),
  WRONG_PARAMCOUNT_TO_NATIVE_FCT: spec(
    "ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT", 1582, "42000",
    "Incorrect parameter count in the call to native function '%s'"),
  DATA_OUT_OF_RANGE: spec(
    "ER_DATA_OUT_OF_RANGE", 1690, "22003", "%s value is out of range in '%s'"),
  MALFORMED_PACKET: spec("ER_MALFORMED_PACKET", 1835, "HY000", "Malformed communication packet."),
  CLIENT_LOCAL_FILES_DISABLED: spec(
    "ER_CLIENT_LOCAL_FILES_DISABLED", 3948, "42000",
    "Loading local data is disabled; this must be enabled on both the client and server sides"),
  CLIENT_INTERACTION_TIMEOUT: spec(
    "ER_CLIENT_INTERACTION_TIMEOUT", 4031, "HY000",
    "The client was disconnected by the server because of inactivity. See wait_timeout and " +
      "interactive_timeout for configuring this behavior."),
  DUP_FIELDNAME: spec("ER_DUP_FIELDNAME", 1060, "42S21", "Duplicate column name '%s'"),
  DUP_KEYNAME: spec("ER_DUP_KEYNAME", 1061, "42000", "Duplicate key name '%s'"),
  MULTIPLE_PRI_KEY: spec("ER_MULTIPLE_PRI_KEY", 1068, "42000", "Multiple primary key defined"),
  KEY_COLUMN_DOES_NOT_EXITS: spec(
    "ER_KEY_COLUMN_DOES_NOT_EXITS", 1072, "42000", "Key column '%s' doesn't exist in table"),
  WRONG_AUTO_KEY: spec(
    "ER_WRONG_AUTO_KEY", 1075, "42000",
    "Incorrect table definition; there can be only one auto column and it must be defined " +
      "as a key"),
  INVALID_GROUP_FUNC_USE: spec("ER_INVALID_GROUP_FUNC_USE", 1111, "HY000",
    "Invalid use of group function"),
  TABLE_MUST_HAVE_COLUMNS: spec(
    "ER_TABLE_MUST_HAVE_COLUMNS", 1113, "42000", "A table must have at least 1 column"),
  NO_DEFAULT_FOR_FIELD: spec(
    "ER_NO_DEFAULT_FOR_FIELD", 1364, "HY000", "Field '%s' doesn't have a default value"),
  TOO_BIG_PRECISION: spec(
    "ER_TOO_BIG_PRECISION", 1426, "42000",
    "Too-big precision %d specified for '%s'. Maximum is %lu."),
  /** TiDB's error for a transaction whose schema changed under it (retryable). */
  INFO_SCHEMA_CHANGED: spec(
    "ER_INFO_SCHEMA_CHANGED", 8028, "HY000",
    "Information schema is changed during the execution of the statement(for example, " +
      "table definition may be updated by other DDL ran in parallel). If you see this " +
      "error often, try increasing `tidb_max_delta_schema_count`. [try again later]"),
  /** TiDB's optimistic write-write conflict (retryable). */
  WRITE_CONFLICT: spec(
    "ER_WRITE_CONFLICT", 9007, "HY000",
    "Write conflict, txnStartTS=%s, conflictStartTS=%s, conflictCommitTS=%s, key=%s " +
      "[try again later]"),
  NONUNIQ_TABLE: spec("ER_NONUNIQ_TABLE", 1066, "42000", "Not unique table/alias: '%s'"),
  TOO_BIG_SELECT: spec(
    "ER_TOO_BIG_SELECT", 1104, "42000",
    "The SELECT would examine more than MAX_JOIN_SIZE rows; check your WHERE and use SET " +
      "SQL_BIG_SELECTS=1 or SET MAX_JOIN_SIZE=# if the SELECT is okay"),
  WRONG_NUMBER_OF_COLUMNS_IN_SELECT: spec(
    "ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT", 1222, "21000",
    "The used SELECT statements have a different number of columns"),
  OPERAND_COLUMNS: spec(
    "ER_OPERAND_COLUMNS", 1241, "21000", "Operand should contain %d column(s)"),
  SUBQUERY_NO_1_ROW: spec(
    "ER_SUBQUERY_NO_1_ROW", 1242, "21000", "Subquery returns more than 1 row"),
  DERIVED_MUST_HAVE_ALIAS: spec(
    "ER_DERIVED_MUST_HAVE_ALIAS", 1248, "42000", "Every derived table must have its own alias"),
  WRONG_OBJECT: spec("ER_WRONG_OBJECT", 1347, "HY000", "'%s.%s' is not %s"),
  VIEW_WRONG_LIST: spec(
    "ER_VIEW_WRONG_LIST", 1353, "HY000",
    "In definition of view, derived table or common table expression, SELECT list and " +
      "column names list have different column counts"),
  VIEW_RECURSIVE: spec(
    "ER_VIEW_RECURSIVE", 1462, "HY000", "`%s`.`%s` contains view recursion"),
  CTE_MAX_RECURSION_DEPTH: spec(
    "ER_CTE_MAX_RECURSION_DEPTH", 3636, "HY000",
    "Recursive query aborted after %u iterations. Try increasing @@cte_max_recursion_depth " +
      "to a larger value."),
  WARN_DATA_TRUNCATED: spec(
    "WARN_DATA_TRUNCATED", 1265, "01000", "Data truncated for column '%s' at row %ld"),
  ROW_IS_REFERENCED_2: spec(
    "ER_ROW_IS_REFERENCED_2", 1451, "23000",
    "Cannot delete or update a parent row: a foreign key constraint fails (%s)"),
  NO_REFERENCED_ROW_2: spec(
    "ER_NO_REFERENCED_ROW_2", 1452, "23000",
    "Cannot add or update a child row: a foreign key constraint fails (%s)"),
  CHECK_CONSTRAINT_VIOLATED: spec(
    "ER_CHECK_CONSTRAINT_VIOLATED", 3819, "HY000", "Check constraint '%s' is violated."),
  FK_DEPTH_EXCEEDED: spec(
    "ER_FK_DEPTH_EXCEEDED", 3008, "HY000",
    "Foreign key cascade delete/update exceeds max depth of %d."),
  FK_NO_INDEX_PARENT: spec(
    "ER_FK_NO_INDEX_PARENT", 1822, "HY000",
    "Failed to add the foreign key constraint. Missing index for constraint '%s' in the " +
      "referenced table '%s'"),
  FK_CANNOT_OPEN_PARENT: spec(
    "ER_FK_CANNOT_OPEN_PARENT", 1824, "HY000", "Failed to open the referenced table '%s'"),
  FK_INCOMPATIBLE_COLUMNS: spec(
    "ER_FK_INCOMPATIBLE_COLUMNS", 3780, "HY000",
    "Referencing column '%s' and referenced column '%s' in foreign key constraint '%s' are " +
      "incompatible."),
  FK_COLUMN_CANNOT_BE_NULL: spec(
    "ER_FK_COLUMN_CANNOT_BE_NULL", 1830, "HY000",
    "Column '%s' cannot be NOT NULL: needed in a foreign key constraint '%s' SET NULL"),
  FK_CANNOT_DROP_PARENT: spec(
    "ER_FK_CANNOT_DROP_PARENT", 3730, "HY000",
    "Cannot drop table '%s' referenced by a foreign key constraint '%s' on table '%s'."),
  CHECK_CONSTRAINT_REFERS_UNKNOWN_COLUMN: spec(
    "ER_CHECK_CONSTRAINT_REFERS_UNKNOWN_COLUMN", 3820, "HY000",
    "Check constraint '%s' refers to non-existing column '%s'."),
  CHECK_CONSTRAINT_DUP_NAME: spec(
    "ER_CHECK_CONSTRAINT_DUP_NAME", 3822, "HY000", "Duplicate check constraint name '%s'."),
  TRUNCATE_ILLEGAL_FK: spec(
    "ER_TRUNCATE_ILLEGAL_FK", 1701, "42000",
    "Cannot truncate a table referenced in a foreign key constraint (%s)"),
  CANT_REMOVE_ALL_FIELDS: spec(
    "ER_CANT_REMOVE_ALL_FIELDS", 1090, "42000",
    "You can't delete all columns with ALTER TABLE; use DROP TABLE instead"),
  CANT_DROP_FIELD_OR_KEY: spec(
    "ER_CANT_DROP_FIELD_OR_KEY", 1091, "42000",
    "Can't DROP '%s'; check that column/key exists"),
  KEY_DOES_NOT_EXITS: spec(
    "ER_KEY_DOES_NOT_EXITS", 1176, "42000", "Key '%s' doesn't exist in table '%s'"),
  /** TiDB's: a node that could not reload the schema within its lease refuses to commit. */
  INFO_SCHEMA_EXPIRED: spec(
    "ER_INFO_SCHEMA_EXPIRED", 8027, "HY000",
    "Information schema is out of date: schema failed to update in 1 lease, please make " +
      "sure TiDB can connect to TiKV"),
  /** TiDB's ADMIN CHECK TABLE / INDEX failure: an index does not match the rows. */
  ADMIN_CHECK_TABLE: spec(
    "ER_ADMIN_CHECK_TABLE", 8003, "HY000", "TiDB admin check table failed."),
  CANT_CHANGE_TX_CHARACTERISTICS: spec(
    "ER_CANT_CHANGE_TX_CHARACTERISTICS", 1568, "25001",
    "Transaction characteristics can't be changed while a transaction is in progress"),
  CANT_EXECUTE_IN_READ_ONLY_TRANSACTION: spec(
    "ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION", 1792, "25006",
    "Cannot execute statement in a READ ONLY transaction."),
  LOCK_NOWAIT: spec(
    "ER_LOCK_NOWAIT", 3572, "HY000",
    "Statement aborted because lock(s) could not be acquired immediately and NOWAIT is set."),
  /** TiDB's error for a transaction past its size limits (keys or bytes buffered). */
  TXN_TOO_LARGE: spec("ER_TXN_TOO_LARGE", 8004, "HY000", "Transaction is too large, size: %d"),
  // TiDB's: a pessimistic lock was gone at prewrite (it expired and was resolved); the
  // transaction is rolled back.
  LOCK_EXPIRE: spec("ER_LOCK_EXPIRE", 8229, "HY000", "TTL manager has timed out, pessimistic " +
    "locks may expire, please commit or rollback this transaction"),
  INVALID_JSON_TEXT: spec(
    "ER_INVALID_JSON_TEXT", 3140, "22032",
    "Invalid JSON text: \"%s\" at position %u in value for column '%s'."),
  INVALID_JSON_TEXT_IN_PARAM: spec(
    "ER_INVALID_JSON_TEXT_IN_PARAM", 3141, "22032",
    "Invalid JSON text in argument %u to function %s: \"%s\" at position %u."),
  INVALID_JSON_PATH: spec(
    "ER_INVALID_JSON_PATH", 3143, "42000",
    "Invalid JSON path expression. The error is around character position %u."),
  TOO_BIG_DISPLAYWIDTH: spec(
    "ER_TOO_BIG_DISPLAYWIDTH", 1439, "42000",
    "Display width out of range for column '%s' (max = %lu)"),
  WRONG_VALUE: spec("ER_WRONG_VALUE", 1525, "HY000", "Incorrect %s value: '%s'"),
  UNSUPPORTED_DDL_OPERATION: spec("ER_UNSUPPORTED_DDL_OPERATION", 8200, "HY000",
    "Unsupported %s"),
  INVALID_AUTO_RANDOM: spec("ER_INVALID_AUTO_RANDOM", 8216, "HY000", "Invalid auto random: %s"),
  AUTO_RAND_READ_FAILED: spec("ER_AUTO_RAND_READ_FAILED", 8228, "HY000",
    "Failed to read auto-random value from storage engine"),
  CUT_VALUE_GROUP_CONCAT: spec(
    "ER_CUT_VALUE_GROUP_CONCAT", 1260, "HY000", "Row %u was cut by GROUP_CONCAT()"),
  JSON_DOCUMENT_NULL_KEY: spec(
    "ER_JSON_DOCUMENT_NULL_KEY", 3158, "22032",
    "JSON documents may not contain NULL member names."),
  WINDOW_NO_SUCH_WINDOW: spec(
    "ER_WINDOW_NO_SUCH_WINDOW", 3579, "HY000", "Window name '%s' is not defined."),
  WINDOW_CIRCULARITY_IN_WINDOW_GRAPH: spec(
    "ER_WINDOW_CIRCULARITY_IN_WINDOW_GRAPH", 3580, "HY000",
    "There is a circularity in the window dependency graph."),
  WINDOW_NO_CHILD_PARTITIONING: spec(
    "ER_WINDOW_NO_CHILD_PARTITIONING", 3581, "HY000",
    "A window which depends on another cannot define partitioning."),
  WINDOW_NO_INHERIT_FRAME: spec(
    "ER_WINDOW_NO_INHERIT_FRAME", 3582, "HY000",
    "Window '%s' has a frame definition, so cannot be referenced by another window."),
  WINDOW_NO_REDEFINE_ORDER_BY: spec(
    "ER_WINDOW_NO_REDEFINE_ORDER_BY", 3583, "HY000",
    "Window '%s' cannot inherit '%s' since both contain an ORDER BY clause."),
  WINDOW_FRAME_START_ILLEGAL: spec(
    "ER_WINDOW_FRAME_START_ILLEGAL", 3584, "HY000",
    "Window '%s': frame start cannot be UNBOUNDED FOLLOWING."),
  WINDOW_FRAME_END_ILLEGAL: spec(
    "ER_WINDOW_FRAME_END_ILLEGAL", 3585, "HY000",
    "Window '%s': frame end cannot be UNBOUNDED PRECEDING."),
  WINDOW_FRAME_ILLEGAL: spec(
    "ER_WINDOW_FRAME_ILLEGAL", 3586, "HY000",
    "Window '%s': frame start or end is negative, NULL or of non-integral type"),
  WINDOW_RANGE_FRAME_ORDER_TYPE: spec(
    "ER_WINDOW_RANGE_FRAME_ORDER_TYPE", 3587, "HY000",
    "Window '%s' with RANGE N PRECEDING/FOLLOWING frame requires exactly one ORDER BY " +
      "expression, of numeric or temporal type"),
  WINDOW_RANGE_BOUND_NOT_CONSTANT: spec(
    "ER_WINDOW_RANGE_BOUND_NOT_CONSTANT", 3590, "HY000",
    "Window '%s' has a non-constant frame bound."),
  WINDOW_DUPLICATE_NAME: spec(
    "ER_WINDOW_DUPLICATE_NAME", 3591, "HY000", "Window '%s' is defined twice."),
  WINDOW_INVALID_WINDOW_FUNC_USE: spec(
    "ER_WINDOW_INVALID_WINDOW_FUNC_USE", 3593, "HY000",
    "You cannot use the window function '%s' in this context.'"),
  WINDOW_NESTED_WINDOW_FUNC_USE_IN_WINDOW_SPEC: spec(
    "ER_WINDOW_NESTED_WINDOW_FUNC_USE_IN_WINDOW_SPEC", 3595, "HY000",
    "You cannot nest a window function in the specification of window '%s'."),
  UNKNOWN_TIME_ZONE: spec(
    "ER_UNKNOWN_TIME_ZONE", 1298, "HY000", "Unknown or incorrect time zone: '%s'"),
  WARN_TOO_FEW_RECORDS: spec("ER_WARN_TOO_FEW_RECORDS", 1261, "01000",
    "Row %ld doesn't contain data for all columns"),
  WARN_TOO_MANY_RECORDS: spec("ER_WARN_TOO_MANY_RECORDS", 1262, "01000",
    "Row %ld was truncated; it contained more data than there were input columns"),
  WARN_NULL_TO_NOTNULL: spec("ER_WARN_NULL_TO_NOTNULL", 1263, "22004",
    "Column set to default value; NULL supplied to NOT NULL column '%s' at row %ld"),
  OPTION_PREVENTS_STATEMENT: spec("ER_OPTION_PREVENTS_STATEMENT", 1290, "HY000",
    "The MySQL server is running with the %s option so it cannot execute this statement"),
  FK_COLUMN_CANNOT_DROP: spec("ER_FK_COLUMN_CANNOT_DROP", 1828, "HY000",
    "Cannot drop column '%s': needed in a foreign key constraint '%s'"),
  FK_COLUMN_CANNOT_DROP_CHILD: spec("ER_FK_COLUMN_CANNOT_DROP_CHILD", 1829, "HY000",
    "Cannot drop column '%s': needed in a foreign key constraint '%s' of table '%s'"),
  DEPENDENT_BY_CHECK_CONSTRAINT: spec("ER_DEPENDENT_BY_CHECK_CONSTRAINT", 3959, "HY000",
    "Check constraint '%s' uses column '%s', hence column cannot be dropped or renamed."),
  CHECK_CONSTRAINT_NOT_FOUND: spec("ER_CHECK_CONSTRAINT_NOT_FOUND", 3821, "HY000",
    "Check constraint '%s' is not found in the table."),
  FK_DUP_NAME: spec("ER_FK_DUP_NAME", 1826, "23000",
    "Duplicate foreign key constraint name '%s'"),
  DROP_INDEX_FK: spec("ER_DROP_INDEX_FK", 1553, "HY000",
    "Cannot drop index '%s': needed in a foreign key constraint"),
  FK_NO_INDEX_CHILD: spec("ER_FK_NO_INDEX_CHILD", 1821, "HY000",
    "Failed to add the foreign key constraint. Missing index for constraint '%s' in the " +
      "foreign table '%s'"),
  UNKNOWN_EXPLAIN_FORMAT: spec(
    "ER_UNKNOWN_EXPLAIN_FORMAT", 1918, "HY000", "Unknown EXPLAIN format name: '%s'"),
  FIELD_IN_GROUPING_NOT_GROUP_BY: spec(
    "ER_FIELD_IN_GROUPING_NOT_GROUP_BY", 3602, "HY000",
    "Argument #%u of GROUPING function is not in GROUP BY"),
  MEM_EXCEED_FOR_QUERY: spec(
    "ER_MEM_EXCEED_FOR_QUERY", 8175, "HY000",
    "Your query has been cancelled due to exceeding the allowed memory limit for a single " +
      "SQL query. Please try narrowing your query scope or increase the " +
      "tidb_mem_quota_query limit and try again.[conn=%d]"),
  INVALID_DEFAULT: spec("ER_INVALID_DEFAULT", 1067, "42000", "Invalid default value for '%s'"),
  /** 1292 as MySQL raises it for a date function's argument (ER_WRONG_VALUE's text). */
  INCORRECT_TEMPORAL_VALUE: spec(
    "ER_TRUNCATED_WRONG_VALUE", 1292, "22007", "Incorrect %s value: '%s'"),
  WRONG_VALUE_FOR_TYPE: spec(
    "ER_WRONG_VALUE_FOR_TYPE", 1411, "HY000", "Incorrect %s value: '%s' for function %s"),
  DATETIME_FUNCTION_OVERFLOW: spec(
    "ER_DATETIME_FUNCTION_OVERFLOW", 1441, "22008", "Datetime function: %s field overflow"),
  INVALID_ARGUMENT_FOR_LOGARITHM: spec(
    "ER_INVALID_ARGUMENT_FOR_LOGARITHM", 3020, "2201E", "Invalid argument for logarithm"),
  WARN_ALLOWED_PACKET_OVERFLOWED: spec("ER_WARN_ALLOWED_PACKET_OVERFLOWED", 1301, "HY000",
    "Result of %s() was larger than max_allowed_packet (%ld) - truncated"),
  WRONG_PARAMETERS_TO_NATIVE_FCT: spec("ER_WRONG_PARAMETERS_TO_NATIVE_FCT", 1583, "42000",
    "Incorrect parameters in the call to native function '%s'"),
  REGEXP_ILLEGAL_ARGUMENT: spec(
    "ER_REGEXP_ILLEGAL_ARGUMENT", 3685, "HY000", "Illegal argument to a regular expression."),
  REGEXP_INDEX_OUTOFBOUNDS_ERROR: spec("ER_REGEXP_INDEX_OUTOFBOUNDS_ERROR", 3686, "HY000",
    "Index out of bounds in regular expression search."),
  REGEXP_RULE_SYNTAX: spec("ER_REGEXP_RULE_SYNTAX", 3688, "HY000",
    "Syntax error in regular expression on line %u, character %u."),
  REGEXP_BAD_ESCAPE_SEQUENCE: spec("ER_REGEXP_BAD_ESCAPE_SEQUENCE", 3689, "HY000",
    "Unrecognized escape sequence in regular expression."),
  REGEXP_UNIMPLEMENTED: spec("ER_REGEXP_UNIMPLEMENTED", 3690, "HY000",
    "The regular expression contains a feature that is not implemented in this library."),
  REGEXP_MISMATCHED_PAREN: spec("ER_REGEXP_MISMATCHED_PAREN", 3691, "HY000",
    "Mismatched parenthesis in regular expression."),
  REGEXP_BAD_INTERVAL: spec("ER_REGEXP_BAD_INTERVAL", 3692, "HY000",
    "Incorrect description of a {min,max} interval."),
  REGEXP_MAX_LT_MIN: spec("ER_REGEXP_MAX_LT_MIN", 3693, "HY000",
    "The maximum is less than the minumum in a {min,max} interval."),
  REGEXP_INVALID_BACK_REF: spec("ER_REGEXP_INVALID_BACK_REF", 3694, "HY000",
    "Invalid back-reference in regular expression."),
  REGEXP_MISSING_CLOSE_BRACKET: spec("ER_REGEXP_MISSING_CLOSE_BRACKET", 3696, "HY000",
    "The regular expression contains an unclosed bracket expression."),
  REGEXP_INVALID_RANGE: spec("ER_REGEXP_INVALID_RANGE", 3697, "HY000",
    "The regular expression contains an [x-y] character range where x comes after y."),
  REGEXP_INVALID_FLAG: spec(
    "ER_REGEXP_INVALID_FLAG", 3900, "HY000", "Invalid match mode flag in regular expression."),
  PARTITION_REQUIRES_VALUES_ERROR: spec("ER_PARTITION_REQUIRES_VALUES_ERROR", 1479, "HY000",
    "Syntax error: %s PARTITIONING requires definition of VALUES %s for each partition"),
  PARTITION_WRONG_VALUES_ERROR: spec("ER_PARTITION_WRONG_VALUES_ERROR", 1480, "HY000",
    "Only %s PARTITIONING can use VALUES %s in partition definition"),
  PARTITION_MAXVALUE_ERROR: spec("ER_PARTITION_MAXVALUE_ERROR", 1481, "HY000",
    "MAXVALUE can only be used in last partition definition"),
  PARTITION_WRONG_NO_PART_ERROR: spec("ER_PARTITION_WRONG_NO_PART_ERROR", 1484, "HY000",
    "Wrong number of partitions defined, mismatch with previous setting"),
  WRONG_EXPR_IN_PARTITION_FUNC_ERROR: spec("ER_WRONG_EXPR_IN_PARTITION_FUNC_ERROR", 1486, "HY000",
    "Constant, random or timezone-dependent expressions in (sub)partitioning function are " +
    "not permitted"),
  FIELD_NOT_FOUND_PART_ERROR: spec("ER_FIELD_NOT_FOUND_PART_ERROR", 1488, "HY000",
    "Field in list of fields for partition function not found in table"),
  PARTITIONS_MUST_BE_DEFINED_ERROR: spec("ER_PARTITIONS_MUST_BE_DEFINED_ERROR", 1492, "HY000",
    "For %s partitions each partition must be defined"),
  RANGE_NOT_INCREASING_ERROR: spec("ER_RANGE_NOT_INCREASING_ERROR", 1493, "HY000",
    "VALUES LESS THAN value must be strictly increasing for each partition"),
  MULTIPLE_DEF_CONST_IN_LIST_PART_ERROR: spec(
    "ER_MULTIPLE_DEF_CONST_IN_LIST_PART_ERROR", 1495, "HY000",
    "Multiple definition of same constant in list partitioning"),
  TOO_MANY_PARTITIONS_ERROR: spec("ER_TOO_MANY_PARTITIONS_ERROR", 1499, "HY000",
    "Too many partitions (including subpartitions) were defined"),
  UNIQUE_KEY_NEED_ALL_FIELDS_IN_PF: spec("ER_UNIQUE_KEY_NEED_ALL_FIELDS_IN_PF", 1503, "HY000",
    "A %s must include all columns in the table's partitioning function"),
  NO_PARTS_ERROR: spec("ER_NO_PARTS_ERROR", 1504, "HY000",
    "Number of %s = 0 is not an allowed value"),
  PARTITION_MGMT_ON_NONPARTITIONED: spec("ER_PARTITION_MGMT_ON_NONPARTITIONED", 1505, "HY000",
    "Partition management on a not partitioned table is not possible"),
  FOREIGN_KEY_ON_PARTITIONED: spec("ER_FOREIGN_KEY_ON_PARTITIONED", 1506, "HY000",
    "Foreign keys are not yet supported in conjunction with partitioning"),
  DROP_PARTITION_NON_EXISTENT: spec("ER_DROP_PARTITION_NON_EXISTENT", 1507, "HY000",
    "Error in list of partitions to %s"),
  DROP_LAST_PARTITION: spec("ER_DROP_LAST_PARTITION", 1508, "HY000",
    "Cannot remove all partitions, use DROP TABLE instead"),
  ONLY_ON_RANGE_LIST_PARTITION: spec("ER_ONLY_ON_RANGE_LIST_PARTITION", 1512, "HY000",
    "%s PARTITION can only be used on RANGE/LIST partitions"),
  SAME_NAME_PARTITION: spec("ER_SAME_NAME_PARTITION", 1517, "HY000",
    "Duplicate partition name %s"),
  NO_PARTITION_FOR_GIVEN_VALUE: spec("ER_NO_PARTITION_FOR_GIVEN_VALUE", 1526, "HY000",
    "Table has no partition for value %s"),
  PARTITION_NO_TEMPORARY: spec("ER_PARTITION_NO_TEMPORARY", 1562, "HY000",
    "Cannot create temporary table with partitions"),
  PARTITION_FUNCTION_IS_NOT_ALLOWED: spec("ER_PARTITION_FUNCTION_IS_NOT_ALLOWED", 1564, "HY000",
    "This partition function is not allowed"),
  NULL_IN_VALUES_LESS_THAN: spec("ER_NULL_IN_VALUES_LESS_THAN", 1566, "HY000",
    "Not allowed to use NULL value in VALUES LESS THAN"),
  SAME_NAME_PARTITION_FIELD: spec("ER_SAME_NAME_PARTITION_FIELD", 1652, "HY000",
    "Duplicate partition field name '%s'"),
  PARTITION_COLUMN_LIST_ERROR: spec("ER_PARTITION_COLUMN_LIST_ERROR", 1653, "HY000",
    "Inconsistency in usage of column lists for partitioning"),
  WRONG_TYPE_COLUMN_VALUE_ERROR: spec("ER_WRONG_TYPE_COLUMN_VALUE_ERROR", 1654, "HY000",
    "Partition column values of incorrect type"),
  FIELD_TYPE_NOT_ALLOWED_AS_PARTITION_FIELD: spec(
    "ER_FIELD_TYPE_NOT_ALLOWED_AS_PARTITION_FIELD", 1659, "HY000",
    "Field '%s' is of a not allowed type for this type of partitioning"),
  VALUES_IS_NOT_INT_TYPE_ERROR: spec("ER_VALUES_IS_NOT_INT_TYPE_ERROR", 1697, "HY000",
    "VALUES value for partition '%s' must have type INT"),
  UNKNOWN_PARTITION: spec("ER_UNKNOWN_PARTITION", 1735, "HY000",
    "Unknown partition '%s' in table '%s'"),
  PARTITION_CLAUSE_ON_NONPARTITIONED: spec("ER_PARTITION_CLAUSE_ON_NONPARTITIONED", 1747, "HY000",
    "PARTITION () clause on non partitioned table"),
  ROW_DOES_NOT_MATCH_GIVEN_PARTITION_SET: spec(
    "ER_ROW_DOES_NOT_MATCH_GIVEN_PARTITION_SET", 1748, "HY000",
    "Found a row not matching the given partition set"),
  COLLATION_CHARSET_MISMATCH: spec("ER_COLLATION_CHARSET_MISMATCH", 1253, "42000",
    "COLLATION '%s' is not valid for CHARACTER SET '%s'"),
  CANT_AGGREGATE_2COLLATIONS: spec("ER_CANT_AGGREGATE_2COLLATIONS", 1267, "HY000",
    "Illegal mix of collations (%s,%s) and (%s,%s) for operation '%s'"),
  CANT_AGGREGATE_3COLLATIONS: spec("ER_CANT_AGGREGATE_3COLLATIONS", 1270, "HY000",
    "Illegal mix of collations (%s,%s), (%s,%s), (%s,%s) for operation '%s'"),
  CANT_AGGREGATE_NCOLLATIONS: spec("ER_CANT_AGGREGATE_NCOLLATIONS", 1271, "HY000",
    "Illegal mix of collations for operation '%s'"),
  INVALID_TYPE_FOR_JSON: spec("ER_INVALID_TYPE_FOR_JSON", 3146, "22032",
    "Invalid data type for JSON data in argument %u to function %s; a JSON string or JSON " +
    "type is required."),
  INVALID_JSON_PATH_WILDCARD: spec("ER_INVALID_JSON_PATH_WILDCARD", 3149, "42000",
    "In this situation, path expressions may not contain the * and ** tokens or an array " +
    "range."),
  JSON_VACUOUS_PATH: spec("ER_JSON_VACUOUS_PATH", 3153, "42000",
    "The path expression '$' is not allowed in this context."),
  JSON_BAD_ONE_OR_ALL_ARG: spec("ER_JSON_BAD_ONE_OR_ALL_ARG", 3154, "42000",
    "The oneOrAll argument to %s may take these values: 'one' or 'all'."),
  INVALID_JSON_PATH_ARRAY_CELL: spec("ER_INVALID_JSON_PATH_ARRAY_CELL", 3165, "42000",
    "A path expression is not a path to a cell in an array."),
} as const;

/** MySQL's own bound on an error message's length in bytes (`MYSQL_ERRMSG_SIZE` - 1). */
export const errorMessageBytesMax = 511;

/** MySQL quotes at most this many characters of the query after a syntax error. */
export const syntaxErrorNearCharsMax = 80;

/** An error reported to a client as an ERR packet. */
export class MySqlError extends Error {
  override readonly name = "MySqlError";
  readonly errno: number;
  readonly sqlState: string;
  /** The catalogue entry it was built from. */
  readonly spec: MySqlErrorSpec;

  constructor(spec: MySqlErrorSpec, message: string) {
    super(message);
    this.spec = spec;
    this.errno = spec.errno;
    this.sqlState = spec.sqlState;
  }
}

/** A placeholder: `%` then an optional `.*`, an optional `l`, then `s`, `d` or `u`. */
const placeholder = /%(\.\*)?l?[sdu]/g;

/**
 * Fills `spec`'s template with `args`, in order (missing ones read as empty), the way
 * MySQL's `my_error` does, and cuts the message to `errorMessageBytesMax` bytes.
 */
export function formatMySqlMessage(
  spec: MySqlErrorSpec,
  args: readonly (string | number | bigint)[] = [],
): string {
  let next = 0;
  const text = spec.template.replace(placeholder, () => String(args[next++] ?? ""));
  return truncateUtf8(text, errorMessageBytesMax);
}

/** Builds the error for `spec` with its template's arguments. */
export function mysqlError(
  spec: MySqlErrorSpec,
  args: readonly (string | number | bigint)[] = [],
): MySqlError {
  return new MySqlError(spec, formatMySqlMessage(spec, args));
}

/**
 * The 1064 syntax error for a query whose unparsed remainder is `rest` (from the offending
 * token to the end), on 1-based `line`: MySQL quotes at most 80 characters of it.
 */
export function syntaxError(rest: string, line: number): MySqlError {
  const chars = Array.from(rest);
  const near = chars.length > syntaxErrorNearCharsMax
    ? chars.slice(0, syntaxErrorNearCharsMax).join("")
    : rest;
  return mysqlError(ER.PARSE_ERROR, [near, line]);
}

/** `text` cut to at most `bytesMax` UTF-8 bytes, never inside a character. */
function truncateUtf8(text: string, bytesMax: number): string {
  if (text.length * 3 <= bytesMax) return text;
  let bytes = 0;
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > bytesMax) break;
    bytes += size;
    out += ch;
  }
  return out;
}
