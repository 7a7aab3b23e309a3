from tortoise import fields
from tortoise.models import Model
from tortoise.transactions import in_transaction


class Team(Model):
    name = fields.CharField(max_length=50)


class Member(Model):
    team = fields.ForeignKeyField("models.Team")


async def create_team(name):
    # the team first
    async with in_transaction():
        team = await Team.create(name=name)
        await Member.create(team=team)  # its first member
    return team
