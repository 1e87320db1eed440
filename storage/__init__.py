"""Storage: SQLAlchemy models, repositories implementing ``domain.ports``, the unit of work, engines, migrations.

    engine = create_engine(url)                      # storage.engine
    await upgrade_to_head(url)                       # storage.migrate
    uow = SqlUnitOfWork(create_session_factory(engine))  # storage.uow
"""
