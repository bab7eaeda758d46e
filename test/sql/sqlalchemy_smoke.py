"""SQLAlchemy 1.4 (pymysql) smoke test against a Tessera SQL node.

Run by test/sql/orm_smoke.test.ts with the node's port as the first argument and a fresh
database name as the second. Exercises what the ORM sends on connect and for an ORM
model: dialect initialization (SHOW VARIABLES, SELECT @@…), table existence checks through
information_schema, CREATE TABLE, session add/commit, queries with filters, update,
rollback, reflection (SHOW CREATE TABLE, SHOW FULL TABLES) and DROP TABLE. Prints "OK"
at the end; any failure raises and exits non-zero.
"""
import sys

from sqlalchemy import (Column, ForeignKey, Integer, MetaData, Numeric, String, Table,
                        create_engine, func, inspect)
from sqlalchemy.orm import declarative_base, sessionmaker

port, database = int(sys.argv[1]), sys.argv[2]
root = create_engine(f"mysql+pymysql://root@127.0.0.1:{port}/", future=True)
with root.connect() as conn:
    conn.exec_driver_sql(f"CREATE DATABASE {database}")
root.dispose()

engine = create_engine(f"mysql+pymysql://root@127.0.0.1:{port}/{database}", future=True)
Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True, autoincrement=True)
    name = Column(String(50), nullable=False)
    balance = Column(Numeric(10, 2), nullable=False, default=0)


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True, autoincrement=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    item = Column(String(20))


Base.metadata.create_all(engine)
assert inspect(engine).has_table("users"), "has_table after create_all"
Base.metadata.create_all(engine)  # a second run finds the table and creates nothing

Session = sessionmaker(bind=engine, future=True)
with Session() as session:
    session.add_all([User(name="ann", balance=10), User(name="bob", balance=20),
                     User(name="cy", balance=30)])
    session.commit()
    ids = [u.id for u in session.query(User).order_by(User.id)]
    assert len(ids) == 3 and len(set(ids)) == 3, ids

with Session() as session:
    rich = session.query(User).filter(User.balance >= 20).order_by(User.name).all()
    assert [u.name for u in rich] == ["bob", "cy"], [u.name for u in rich]
    bob = session.query(User).filter_by(name="bob").one()
    bob.balance = 25
    session.commit()

with Session() as session:
    assert session.query(User).filter_by(name="bob").one().balance == 25
    ann = session.query(User).filter_by(name="ann").one()
    ann.name = "anne"
    session.flush()
    session.rollback()

with Session() as session:
    names = sorted(u.name for u in session.query(User).all())
    assert names == ["ann", "bob", "cy"], names
    assert session.query(func.count(User.id)).scalar() == 3
    assert session.query(User).count() == 3  # a derived table
    session.add(Order(user_id=ids[0], item="book"))
    session.commit()
    joined = session.query(User.name, Order.item).join(Order, Order.user_id == User.id).all()
    assert [tuple(r) for r in joined] == [("ann", "book")], joined

insp = inspect(engine)
assert insp.get_table_names() == ["orders", "users"], insp.get_table_names()
fks = insp.get_foreign_keys("orders")
assert [(fk["constrained_columns"], fk["referred_table"], fk["referred_columns"]) for fk in fks] \
    == [(["user_id"], "users", ["id"])], fks
columns = {c["name"]: c for c in insp.get_columns("users")}
assert set(columns) == {"id", "name", "balance"}, columns
assert insp.get_pk_constraint("users")["constrained_columns"] == ["id"]
reflected = Table("users", MetaData(), autoload_with=engine)
assert [c.name for c in reflected.columns] == ["id", "name", "balance"]

Base.metadata.drop_all(engine)
assert not inspect(engine).has_table("users"), "has_table after drop_all"
assert not inspect(engine).has_table("orders"), "has_table after drop_all"
engine.dispose()
print("OK")
