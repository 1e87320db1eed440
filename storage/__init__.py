"""Storage: SQLAlchemy models, repositories implementing ``domain.ports``, the unit of work, engines, migrations.

engine = create_engine(url)                      # storage.engine
await upgrade_to_head(url)                       # storage.migrate
uow = SqlUnitOfWork(engine)  # storage.uow
"""
