from peewee import CharField, ForeignKeyField, Model, SqliteDatabase

db = SqliteDatabase("blog.db")


class Author(Model):
    name = CharField()

    class Meta:
        database = db


class Post(Model):
    author = ForeignKeyField(Author)
    title = CharField()

    class Meta:
        database = db


def publish(name, title):
    author = Author.create(name=name)
    Post.create(author=author, title=title)
